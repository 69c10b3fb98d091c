// Command append measures the write-behind path of the store: float32
// timesteps appended to an unlimited array, compared with the codec alone.
//
//	go run ./bench/append -steps 8 -mib 64 -procs 2
//
// It reports, for one timestep of -mib MiB:
//
//   - codec 1 core: the time to encode the timestep's chunks on one goroutine;
//   - codec N cores: the encoding throughput on -procs goroutines;
//   - end to end: the throughput of -steps Appends back to back plus Flush;
//   - time in Append: the caller's time inside Append when it computes
//     between timesteps for as long as the encoders need (a sleep stands in
//     for the simulation), as a fraction of the one-core encode time;
//   - memory: the process's peak resident set (VmHWM) above its resident
//     set before the store was opened, against Options.MaxPendingBytes,
//     the peak Go heap (runtime/metrics, sampled every 5 ms), the number of
//     collections and the soft memory limit in effect at the end.
//
// The values are a smooth synthetic field with noise, so the numbers
// measure the pipeline, not a data set. Timings depend on the load of the
// machine; the command asserts nothing.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

func main() {
	steps := flag.Int("steps", 8, "timesteps to append in each phase")
	mib := flag.Int("mib", 64, "size of one float32 timestep in MiB")
	procs := flag.Int("procs", 2, "GOMAXPROCS and encoder goroutines")
	maxPending := flag.Int64("max-pending-mib", 256, "Options.MaxPendingBytes in MiB")
	bound := flag.Float64("bound", 1e-3, "absolute error bound")
	dir := flag.String("dir", "", "folder for the store (default: a temporary folder, removed at the end)")
	offHeap := flag.Bool("offheap", false, "keep the timestep outside the Go heap (an anonymous mapping), as the field of a C or Fortran simulation is")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	if err := run(*steps, *mib, *procs, *maxPending<<20, *bound, *dir, *offHeap); err != nil {
		log.Fatal(err)
	}
}

func run(steps, mib, procs int, maxPending int64, bound float64, dir string, offHeap bool) error {
	// A timestep of ny rows of 4096 values.
	const nx = 4096
	ny := mib << 20 / 4 / nx
	step := smoothField(ny, nx)
	if offHeap {
		mapped, err := syscall.Mmap(-1, 0, 4*len(step), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			return fmt.Errorf("map the timestep: %w", err)
		}
		defer syscall.Munmap(mapped)
		copy(mapped, unsafeBytes(step))
		step = unsafe.Slice((*float32)(unsafe.Pointer(&mapped[0])), len(step))
	}
	stepBytes := float64(len(step) * 4)
	// The default chunk shape of the store: about 1 MiB, whole rows.
	chunks := chunk.DefaultChunkShape([]int{ny, nx}, 4, 1<<20)
	chunkShape := []int{1, chunks[0], chunks[1]}

	one := encodeTime(step, chunkShape, bound, 1)
	many := encodeTime(step, chunkShape, bound, procs)
	fmt.Printf("timestep: %d MiB (1 x %d x %d float32), chunks %v, bound %g, GOMAXPROCS %d\n", mib, ny, nx, chunkShape, bound, procs)
	fmt.Printf("codec 1 core: %.3f s per timestep (%.0f MB/s)\n", one.Seconds(), stepBytes/one.Seconds()/1e6)
	fmt.Printf("codec %d cores: %.3f s per timestep (%.0f MB/s)\n", procs, many.Seconds(), stepBytes/many.Seconds()/1e6)

	if dir == "" {
		tmp, err := os.MkdirTemp("", "epsilon-append-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	debug.FreeOSMemory()
	rssBefore := procStatus("VmRSS")
	heapBefore := sampleHeap()
	var gcBefore runtime.MemStats
	runtime.ReadMemStats(&gcBefore)
	stopSampler := startHeapSampler()

	db, err := store.Open(filepath.Join(dir, "db"), &store.Options{WriteBehind: true, MaxPendingBytes: maxPending, Concurrency: procs})
	if err != nil {
		return err
	}
	defer db.Close()
	opts := store.ArrayOptions{DType: codecs.Float32, Shape: []int{0, ny, nx}, Unlimited: true, Chunks: chunkShape, Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: bound}}

	// End to end: Appends back to back, then Flush.
	if _, err := db.Create("burst", opts); err != nil {
		return err
	}
	start := time.Now()
	for range steps {
		if _, err := db.Append("burst", []int{1, ny, nx}, step); err != nil {
			return err
		}
	}
	if err := db.Flush(); err != nil {
		return err
	}
	e2e := time.Since(start)
	e2eRate := float64(steps) * stepBytes / e2e.Seconds()
	fmt.Printf("end to end: %d timesteps in %.3f s, %.0f MB/s = %.0f%% of the codec on %d cores\n",
		steps, e2e.Seconds(), e2eRate/1e6, 100*e2eRate/(stepBytes/many.Seconds()), procs)

	// Overlap: the caller computes (sleeps) between Appends for as long as
	// the encoders need per timestep, plus 10%.
	if _, err := db.Create("paced", opts); err != nil {
		return err
	}
	compute := many + many/10
	var inAppend, worst time.Duration
	for range steps {
		t0 := time.Now()
		if _, err := db.Append("paced", []int{1, ny, nx}, step); err != nil {
			return err
		}
		d := time.Since(t0)
		inAppend += d
		worst = max(worst, d)
		time.Sleep(compute)
	}
	if err := db.Flush(); err != nil {
		return err
	}
	mean := inAppend / time.Duration(steps)
	fmt.Printf("time in Append: mean %.1f ms, max %.1f ms per timestep = %.1f%% (max %.1f%%) of the 1-core encode, with %.0f ms of compute between Appends\n",
		ms(mean), ms(worst), 100*mean.Seconds()/one.Seconds(), 100*worst.Seconds()/one.Seconds(), ms(compute))

	hwm := procStatus("VmHWM")
	heapPeak := stopSampler()
	var gcAfter runtime.MemStats
	runtime.ReadMemStats(&gcAfter)
	fmt.Printf("memory: peak resident %.0f MiB, %.0f MiB above the %.0f MiB before Open; MaxPendingBytes %d MiB; overhead above the cap %.0f MiB\n",
		mibOf(hwm), mibOf(hwm-rssBefore), mibOf(rssBefore), maxPending>>20, mibOf(hwm-rssBefore-maxPending))
	limit := "none"
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		limit = fmt.Sprintf("%.0f MiB", mibOf(l))
	}
	fmt.Printf("go heap: peak %.0f MiB, %.0f MiB above the %.0f MiB before Open; %d collections; soft memory limit %s\n",
		mibOf(heapPeak), mibOf(heapPeak-heapBefore), mibOf(heapBefore), gcAfter.NumGC-gcBefore.NumGC, limit)
	return nil
}

// sampleHeap returns the bytes of the Go heap's objects, live or not yet
// collected.
func sampleHeap() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// startHeapSampler samples the Go heap every 5 ms until the returned
// function is called, which returns the peak.
func startHeapSampler() (stop func() int64) {
	done := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var p int64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			p = max(p, sampleHeap())
			select {
			case <-done:
				peak <- p
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		return <-peak
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mibOf(b int64) float64 { return float64(b) / (1 << 20) }

// encodeTime returns the time to encode the chunks of one timestep on
// workers goroutines, the best of three runs.
func encodeTime(step []float32, chunkShape []int, bound float64, workers int) time.Duration {
	ny, nx := chunkShape[1], chunkShape[2]
	per := ny * nx
	n := len(step) / per
	raw := unsafeBytes(step)
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		var wg sync.WaitGroup
		next := make(chan int, n)
		for i := range n {
			next <- i
		}
		close(next)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var dst []byte
				p := codecs.Params{DType: codecs.Float32, Shape: chunkShape, Bound: bound}
				for i := range next {
					var err error
					dst, err = codecs.Encode(dst[:0], codecs.Lorenzo, codecs.Bound{Mode: codecs.ModeAbs, Value: bound}, p, raw[i*per*4:(i+1)*per*4])
					if err != nil {
						log.Fatal(err)
					}
				}
			}()
		}
		wg.Wait()
		best = min(best, time.Since(start))
	}
	return best
}

// smoothField returns ny x nx values of a smooth field with noise.
func smoothField(ny, nx int) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]float32, ny*nx)
	for y := range ny {
		for x := range nx {
			out[y*nx+x] = float32(280 + 20*math.Sin(float64(x)/300)*math.Cos(float64(y)/200) + 0.01*rng.NormFloat64())
		}
	}
	return out
}

// procStatus returns a memory field of /proc/self/status in bytes, or 0
// where the file is missing.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

func unsafeBytes(v []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}
