// Command reliability injects faults into epsilon stores and kills importing
// processes, and reports how each case ended. It is the long run of the
// store's corruption and crash tests:
//
//	go run ./bench/reliability -faults 10000 -crashes 50
//
// Every fault is applied to a fresh copy of one pristine store: half flip a
// bit or overwrite a byte of a stored chunk value, half flip, overwrite or
// truncate one of Pebble's files. A case ends correct (every array within
// its bound), detected (Open or a read fails), lost (an array is not found),
// silently wrong, or in a panic. The last two are failures.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
	"github.com/epsilon-db/epsilon/store/faultinject"
)

const childEnv = "EPSILON_RELIABILITY_CHILD_DB"

func main() {
	if dir := os.Getenv(childEnv); dir != "" {
		runChild(dir, os.Getenv("EPSILON_RELIABILITY_CHILD_PREFIX"))
		return
	}
	faults := flag.Int("faults", 10000, "number of injected faults")
	crashes := flag.Int("crashes", 50, "number of killed import processes")
	seed := flag.Uint64("seed", 1, "first seed")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "epsilon-reliability-")
	check(err)
	defer os.RemoveAll(tmp)

	failed := runFaults(tmp, *faults, *seed)
	failed = runCrashes(tmp, *crashes, *seed) || failed
	if failed {
		os.Exit(1)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(2)
	}
}

func array(i int) ([]int, []float32) {
	shape := []int{16 + i%5, 40, 36}
	rng := rand.New(rand.NewPCG(uint64(i), 99))
	data := make([]float32, chunk.Shape(shape).Count())
	for k := range data {
		data[k] = float32(50*math.Sin(float64(k)/29+float64(i)) + rng.NormFloat64())
	}
	return shape, data
}

func runFaults(tmp string, n int, seed uint64) bool {
	pristine := filepath.Join(tmp, "pristine")
	db, err := store.Open(pristine, nil)
	check(err)
	var want []faultinject.Expected
	for i, bound := range []float64{0.01, 0.1, 0} {
		shape, data := array(100 + i)
		name := fmt.Sprintf("a%d", i)
		b := codecs.Bound{Mode: codecs.ModeAbs, Value: bound}
		if bound == 0 {
			b = codecs.Bound{}
		}
		_, err := db.Create(name, store.ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{8, 20, 36}, Bound: b})
		check(err)
		check(db.Write(name, chunk.Full(shape), data))
		want = append(want, faultinject.Expected{Name: name, Shape: shape, Data: data, Bound: bound})
	}
	check(db.Close())

	counts := map[string]map[faultinject.Outcome]int{"value": {}, "file": {}}
	byKind := map[faultinject.Kind]map[faultinject.Outcome]int{}
	start := time.Now()
	bad := false
	for i := range n {
		s := seed + uint64(i)
		dir := filepath.Join(tmp, "case")
		os.RemoveAll(dir)
		check(faultinject.CopyDir(dir, pristine))
		in := faultinject.New(s)
		var f faultinject.Fault
		target := "file"
		if i%2 == 0 {
			target = "value"
			db, err := store.Open(dir, &store.Options{NoSync: true})
			check(err)
			f, err = in.CorruptValue(db)
			check(err)
			check(db.Close())
		} else {
			f, err = in.CorruptFile(dir)
			check(err)
		}
		out, detail := faultinject.Check(dir, want, nil)
		counts[target][out]++
		if byKind[f.Kind] == nil {
			byKind[f.Kind] = map[faultinject.Outcome]int{}
		}
		byKind[f.Kind][out]++
		if out == faultinject.Wrong || out == faultinject.Panicked {
			bad = true
			fmt.Printf("FAILURE seed %d, %v: %s: %s\n", s, f, out, detail)
		}
		if out == faultinject.Lost && counts[target][out] <= 5 {
			fmt.Printf("lost: seed %d, %v: %s\n", s, f, detail)
		}
	}
	fmt.Printf("%d faults in %v\n", n, time.Since(start).Round(time.Second))
	outcomes := []faultinject.Outcome{faultinject.Correct, faultinject.DetectedOpen, faultinject.DetectedRead, faultinject.Lost, faultinject.Wrong, faultinject.Panicked}
	fmt.Printf("%-22s", "target / kind")
	for _, o := range outcomes {
		fmt.Printf("%18s", o)
	}
	fmt.Println()
	row := func(name string, c map[faultinject.Outcome]int) {
		fmt.Printf("%-22s", name)
		for _, o := range outcomes {
			fmt.Printf("%18d", c[o])
		}
		fmt.Println()
	}
	row("chunk values", counts["value"])
	row("pebble files", counts["file"])
	for _, k := range []faultinject.Kind{faultinject.ValueBitFlip, faultinject.ValueByte, faultinject.FileBitFlip, faultinject.FileByte, faultinject.FileTruncate} {
		row("  "+string(k), byKind[k])
	}
	return bad
}

// runChild imports arrays prefix-0, prefix-1, ... into dir and prints
// "ok N" after each import returns, until it is killed.
func runChild(dir, prefix string) {
	db, err := store.Open(dir, &store.Options{Concurrency: 2, ChunkBytes: 4 << 10})
	check(err)
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		shape, data := array(i)
		raw := make([]byte, 4*len(data))
		for k, v := range data {
			b := math.Float32bits(v)
			raw[4*k], raw[4*k+1], raw[4*k+2], raw[4*k+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
		}
		_, err := db.Import(fmt.Sprintf("%s-%d", prefix, i), strings.NewReader(string(raw)), int64(len(raw)), store.ArrayOptions{
			DType: codecs.Float32, Shape: shape, Chunks: []int{4, 20, 36}, Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: 0.05},
		}, nil)
		check(err)
		fmt.Fprintf(out, "ok %d\n", i)
		out.Flush()
	}
}

func runCrashes(tmp string, n int, seed uint64) bool {
	dir := filepath.Join(tmp, "crash")
	rng := rand.New(rand.NewPCG(seed, 3))
	self, err := os.Executable()
	check(err)
	acked, bad := 0, false
	for it := range n {
		prefix := fmt.Sprintf("it%d", it)
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), childEnv+"="+dir, "EPSILON_RELIABILITY_CHILD_PREFIX="+prefix)
		stdout, err := cmd.StdoutPipe()
		check(err)
		check(cmd.Start())
		time.Sleep(time.Duration(50+rng.IntN(500)) * time.Millisecond)
		check(cmd.Process.Signal(syscall.SIGKILL))
		var ok []int
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if n, found := strings.CutPrefix(sc.Text(), "ok "); found {
				i, _ := strconv.Atoi(n)
				ok = append(ok, i)
			}
		}
		_ = cmd.Wait()
		acked += len(ok)
		if msg := checkCrash(dir, prefix, len(ok)); msg != "" {
			bad = true
			fmt.Printf("FAILURE crash %d: %s\n", it, msg)
		}
	}
	fmt.Printf("%d crashes (SIGKILL during imports), %d imports acknowledged, failures: %v\n", n, acked, bad)
	return bad
}

// checkCrash reopens dir and checks that imports 0..acked-1 of prefix are
// whole and within bound, any later one is whole or absent, and Verify
// finds nothing.
func checkCrash(dir, prefix string, acked int) string {
	db, err := store.Open(dir, nil)
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	for i := 0; i <= acked; i++ {
		name := fmt.Sprintf("%s-%d", prefix, i)
		shape, data := array(i)
		got := make([]float32, len(data))
		err := db.Read(name, chunk.Full(shape), got)
		if i == acked && err != nil {
			continue // the import in flight may be absent
		}
		if err != nil {
			return fmt.Sprintf("acknowledged import %s: %v", name, err)
		}
		if err := qos.Compare(data, got, 0.05, nil).Err(); err != nil {
			return fmt.Sprintf("array %s: %v", name, err)
		}
	}
	problems, err := db.Verify("", nil)
	if err != nil || len(problems) > 0 {
		return fmt.Sprintf("verify: %v %v", problems, err)
	}
	return ""
}
