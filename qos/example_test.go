package qos_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
)

// Import a smooth 2-D field with a PSNR target: the default verify mode
// measures the stored array and corrects it until the target holds.
func ExampleImport() {
	dir, err := os.MkdirTemp("", "epsilon-qos-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	const ny, nx = 256, 384
	var raw bytes.Buffer
	for y := range ny {
		for x := range nx {
			v := math.Sin(float64(x)/23) * math.Cos(float64(y)/31) * (1 + float64(y)/ny)
			_ = binary.Write(&raw, binary.LittleEndian, float32(v))
		}
	}

	target, err := qos.ParseTarget("psnr=60")
	if err != nil {
		panic(err)
	}
	opts := store.ArrayOptions{DType: codecs.Float32, Shape: []int{ny, nx}}
	res, err := qos.Import(db, "wave", bytes.NewReader(raw.Bytes()), int64(raw.Len()), opts, qos.Options{Target: target})
	if err != nil {
		panic(err)
	}
	fmt.Printf("target %s met: %v, measured: %v\n", res.Target, res.Achieved >= 60, res.Measured)
	// Output: target psnr=60 met: true, measured: true
}
