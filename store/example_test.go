package store_test

import (
	"fmt"
	"log"
	"math"
	"os"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// tempStore opens a store in a new temporary folder and returns it with a
// function that closes and removes it.
func tempStore(opts *store.Options) (*store.DB, func()) {
	dir, err := os.MkdirTemp("", "epsilon-example-")
	if err != nil {
		log.Fatal(err)
	}
	db, err := store.Open(dir, opts)
	if err != nil {
		log.Fatal(err)
	}
	return db, func() {
		if err := db.Close(); err != nil {
			log.Fatal(err)
		}
		os.RemoveAll(dir)
	}
}

// field returns the values of a smooth 2-D field at time step s.
func field(s, ny, nx int) []float32 {
	out := make([]float32, ny*nx)
	for y := range ny {
		for x := range nx {
			out[y*nx+x] = float32(280 + 10*math.Sin(float64(x+s)/9)*math.Cos(float64(y)/7))
		}
	}
	return out
}

// maxAbsDiff returns max |a[i]-b[i]| in float64.
func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// Create an array with an absolute error bound, write it whole and read it
// back: every value comes back within the bound.
func ExampleDB_Create() {
	db, done := tempStore(nil)
	defer done()

	shape := []int{64, 96}
	info, err := db.Create("temperature", store.ArrayOptions{
		DType: codecs.Float32,
		Shape: shape,
		Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: 0.01},
	})
	if err != nil {
		log.Fatal(err)
	}
	data := field(0, 64, 96)
	if err := db.Write("temperature", chunk.Full(shape), data); err != nil {
		log.Fatal(err)
	}
	got := make([]float32, len(data))
	if err := db.Read("temperature", chunk.Full(shape), got); err != nil {
		log.Fatal(err)
	}
	fmt.Println("codec:", info.Codec)
	fmt.Println("within 0.01:", maxAbsDiff(data, got) <= 0.01)
	// Output:
	// codec: auto
	// within 0.01: true
}

// Append the timesteps of a simulation one at a time to an array whose
// leading dimension grows. With Options.WriteBehind, Append copies the
// values and returns while the store encodes them on all cores; Flush waits
// for them and makes them durable.
func ExampleDB_Append() {
	db, done := tempStore(&store.Options{WriteBehind: true, MaxPendingBytes: 64 << 20})
	defer done()

	const ny, nx = 48, 64
	_, err := db.Create("T", store.ArrayOptions{
		DType:     codecs.Float32,
		Shape:     []int{0, ny, nx}, // no timestep yet
		Unlimited: true,
		Chunks:    []int{4, ny, nx}, // 4 timesteps per chunk
		Bound:     codecs.Bound{Mode: codecs.ModeAbs, Value: 1e-3},
	})
	if err != nil {
		log.Fatal(err)
	}
	for s := range 10 {
		r, err := db.Append("T", []int{1, ny, nx}, field(s, ny, nx))
		if err != nil {
			log.Fatal(err)
		}
		if s == 9 {
			fmt.Println("last timestep at:", r)
		}
	}
	if err := db.Flush(); err != nil {
		log.Fatal(err)
	}
	info, err := db.Info("T")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("shape:", info.Shape)
	// Output:
	// last timestep at: 9:10,0:48,0:64
	// shape: [10 48 64]
}

// Read a region: timesteps 2 to 4 of a 10 x 6 x 6 array, rows 1 and 2,
// columns 0 to 5. Read decodes only the chunks that the region meets.
func ExampleDB_Read() {
	db, done := tempStore(nil)
	defer done()

	_, err := db.Create("T", store.ArrayOptions{
		DType: codecs.Float32, Shape: []int{0, 6, 6}, Unlimited: true,
		Chunks: []int{2, 6, 6}, Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: 1e-3},
	})
	if err != nil {
		log.Fatal(err)
	}
	for s := range 10 {
		if _, err := db.Append("T", []int{1, 6, 6}, field(s, 6, 6)); err != nil {
			log.Fatal(err)
		}
	}
	r, err := chunk.ParseRegion("2:5,1:3,:", []int{10, 6, 6})
	if err != nil {
		log.Fatal(err)
	}
	got := make([]float32, r.Count())
	if err := db.Read("T", r, got); err != nil {
		log.Fatal(err)
	}
	orig := field(2, 6, 6)[1*6+0]
	fmt.Println("values:", len(got))
	fmt.Printf("T[2,1,0] = %.1f, within 1e-3 of the original: %v\n", got[0], math.Abs(float64(got[0])-float64(orig)) <= 1e-3)
	// Output:
	// values: 36
	// T[2,1,0] = 282.2, within 1e-3 of the original: true
}

// tightCenter is a bound policy: chunks whose first coordinate is 0 get a
// ten times tighter bound than the array's. A quality target (a PSNR for the
// whole array, say) is met by a policy of this kind that package qos
// provides; this example uses a fixed rule to stay self-contained.
type tightCenter struct{}

func (tightCenter) ChunkBound(info *store.ArrayInfo, coords []int, _ []byte) (float64, error) {
	if coords[0] == 0 {
		return info.AbsBound / 10, nil
	}
	return info.AbsBound, nil
}

// Set a quality target per chunk with a BoundPolicy: the store asks the
// policy for the bound of each chunk it encodes, and records that bound in
// the chunk's header.
func ExampleDB_SetPolicy() {
	db, done := tempStore(nil)
	defer done()

	shape := []int{8, 64}
	_, err := db.Create("p", store.ArrayOptions{
		DType: codecs.Float32, Shape: shape, Chunks: []int{4, 64},
		Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: 0.1},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := db.SetPolicy("p", tightCenter{}); err != nil {
		log.Fatal(err)
	}
	if err := db.Write("p", chunk.Full(shape), field(0, 8, 64)); err != nil {
		log.Fatal(err)
	}
	st, err := db.Stat("p")
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range st.Chunks {
		fmt.Printf("chunk %v bound %g\n", c.Coords, c.AbsBound)
	}
	// Output:
	// chunk [0 0] bound 0.01
	// chunk [1 0] bound 0.1
}
