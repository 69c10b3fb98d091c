// Command gpu measures the block codec kernels on an NVIDIA GPU. It reports
// encode and decode throughput of the kernels alone (CUDA event timing) and
// with the host transfers. Throughput is in GB/s of raw values and as a
// fraction of the device's peak memory bandwidth. The field is a real field tiled to the requested
// size and cut into chunks that share one launch per kernel. Every payload
// and every decoded value is checked against the CPU codec, so a run that
// prints numbers also proved bit-identity at that size.
//
//	gpu -data DIR                        # cesm_lens_TS tiled to 1 GiB, rel 1e-4
//	gpu -data DIR -field pressure -gib 2 # another field and size
//	gpu -data DIR -json                  # one JSON object per line
//
// Without a usable GPU it prints the reason and exits with status 1.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/gpuaccel"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

type options struct {
	data     string
	field    string
	gib      float64
	chunkMiB int
	rel      float64
	reps     int
	jsonOut  bool
}

// result is one measured direction.
type result struct {
	Device        string  `json:"device"`
	Field         string  `json:"field"`
	Direction     string  `json:"direction"`
	RawBytes      int64   `json:"raw_bytes"`
	Chunks        int     `json:"chunks"`
	Rel           float64 `json:"rel"`
	Ratio         float64 `json:"ratio"`
	KernelSeconds float64 `json:"kernel_seconds"`
	TotalSeconds  float64 `json:"total_seconds"`
	KernelGBps    float64 `json:"kernel_gbps"`
	TotalGBps     float64 `json:"total_gbps"`
	KernelOfPeak  float64 `json:"kernel_fraction_of_peak"`
	TotalOfPeak   float64 `json:"total_fraction_of_peak"`
	PeakGBps      float64 `json:"peak_gbps"`
}

func main() {
	var o options
	flag.StringVar(&o.data, "data", "", "data folder (default: $EPSILON_DATA or ../shared/data)")
	flag.StringVar(&o.field, "field", "cesm_lens_TS", "part of the name of the real field to tile")
	flag.Float64Var(&o.gib, "gib", 1, "size of the tiled field in GiB, at least 1 for the reference figures")
	flag.IntVar(&o.chunkMiB, "chunk-mib", 16, "chunk size in MiB; all chunks share one launch per kernel")
	flag.Float64Var(&o.rel, "rel", 1e-4, "error bound relative to the field's value range")
	flag.IntVar(&o.reps, "reps", 5, "repetitions; the fastest one is reported")
	flag.BoolVar(&o.jsonOut, "json", false, "print one JSON object per direction")
	flag.Parse()
	if err := run(os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "gpu:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, o options) error {
	info, err := gpuaccel.Probe()
	if err != nil {
		return err
	}
	if err := gpuaccel.Available(); err != nil {
		return err
	}
	if o.reps < 1 || o.chunkMiB < 1 || !(o.gib > 0) {
		return fmt.Errorf("-reps %d, -chunk-mib %d and -gib %v must be positive", o.reps, o.chunkMiB, o.gib)
	}
	if o.data != "" {
		os.Setenv("EPSILON_DATA", o.data)
	}
	dir, err := realdata.Dir()
	if err != nil {
		return err
	}
	m, err := realdata.Load(dir)
	if err != nil {
		return err
	}
	f, ok := m.Lookup(o.field)
	if !ok {
		return fmt.Errorf("no field matches -field %q in %s", o.field, dir)
	}
	raw, err := m.Read(f)
	if err != nil {
		return err
	}
	p := codecs.Params{DType: codecs.Float32, Bound: o.rel * (f.Max - f.Min)}
	if f.DType == "float64" {
		p.DType = codecs.Float64
	}
	if f.Fill != nil {
		p.HasFill, p.Fill = true, *f.Fill
	}
	chunks := tile(raw, p, int64(o.gib*(1<<30)), o.chunkMiB<<20)
	var total int64
	for _, c := range chunks {
		total += int64(len(c.Src))
	}

	base := result{Device: info.Name, Field: f.Name(), RawBytes: total, Chunks: len(chunks), Rel: o.rel, PeakGBps: info.PeakBandwidth / 1e9}
	payloads, enc, err := measureEncode(chunks, o.reps)
	if err != nil {
		return err
	}
	if err := checkEncode(chunks, payloads); err != nil {
		return err
	}
	var stored int64
	for _, pl := range payloads {
		stored += int64(len(pl))
	}
	base.Ratio = float64(total) / float64(stored)
	dec, err := measureDecode(chunks, payloads, o.reps)
	if err != nil {
		return err
	}
	for _, r := range []result{fill(base, "encode", enc, info), fill(base, "decode", dec, info)} {
		if o.jsonOut {
			b, _ := json.Marshal(r)
			fmt.Fprintln(w, string(b))
			continue
		}
		fmt.Fprintf(w, "%s %s on %s: %.2f GiB in %d chunks, ratio %.2f; kernels %.1f GB/s (%.1f%% of %.0f GB/s peak), with transfers %.1f GB/s (%.1f%%)\n",
			r.Direction, r.Field, r.Device, float64(r.RawBytes)/(1<<30), r.Chunks, r.Ratio,
			r.KernelGBps, 100*r.KernelOfPeak, r.PeakGBps, r.TotalGBps, 100*r.TotalOfPeak)
	}
	return nil
}

// tile repeats raw until the values fill size bytes and cuts them into chunks
// of chunkBytes (rounded down to whole values).
func tile(raw []byte, p codecs.Params, size int64, chunkBytes int) []gpuaccel.Chunk {
	vsize := p.DType.Size()
	chunkBytes -= chunkBytes % vsize
	var out []gpuaccel.Chunk
	for done := int64(0); done < size; {
		n := int(min(int64(chunkBytes), size-done))
		n -= n % vsize
		if n == 0 {
			break
		}
		buf := make([]byte, n)
		for off := 0; off < n; {
			start := int((done + int64(off)) % int64(len(raw)))
			off += copy(buf[off:], raw[start:])
		}
		cp := p
		cp.Shape = []int{n / vsize}
		out = append(out, gpuaccel.Chunk{Src: buf, Params: cp})
		done += int64(n)
	}
	return out
}

func measureEncode(chunks []gpuaccel.Chunk, reps int) ([][]byte, gpuaccel.Timing, error) {
	var best gpuaccel.Timing
	var payloads [][]byte
	for i := range reps {
		pl, tm, err := gpuaccel.EncodeBatch(chunks)
		if err != nil {
			return nil, best, err
		}
		payloads = pl
		best = faster(best, tm, i == 0)
	}
	return payloads, best, nil
}

func measureDecode(chunks []gpuaccel.Chunk, payloads [][]byte, reps int) (gpuaccel.Timing, error) {
	var best gpuaccel.Timing
	items := make([]gpuaccel.Payload, len(chunks))
	for i, c := range chunks {
		items[i] = gpuaccel.Payload{Data: payloads[i], Params: c.Params, Dst: make([]byte, len(c.Src))}
	}
	for i := range reps {
		tm, err := gpuaccel.DecodeBatch(items)
		if err != nil {
			return best, err
		}
		best = faster(best, tm, i == 0)
	}
	return best, forEach(len(chunks), func(i int) error {
		want := make([]byte, len(chunks[i].Src))
		if err := codecs.Block.Decode(want, payloads[i], chunks[i].Params); err != nil {
			return err
		}
		if !bytes.Equal(want, items[i].Dst) {
			return fmt.Errorf("chunk %d: GPU decode differs from the CPU decode", i)
		}
		return nil
	})
}

// checkEncode compares every GPU payload with the CPU codec's, byte for byte.
func checkEncode(chunks []gpuaccel.Chunk, payloads [][]byte) error {
	return forEach(len(chunks), func(i int) error {
		cpu, err := codecs.Block.AppendEncode(nil, chunks[i].Src, chunks[i].Params)
		if err != nil {
			return err
		}
		if !bytes.Equal(cpu, payloads[i]) {
			return fmt.Errorf("chunk %d: GPU payload (%d bytes) differs from the CPU payload (%d bytes)", i, len(payloads[i]), len(cpu))
		}
		return nil
	})
}

// forEach runs f for 0..n-1 on GOMAXPROCS goroutines and joins the errors.
func forEach(n int, f func(int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

func faster(best, tm gpuaccel.Timing, first bool) gpuaccel.Timing {
	if first {
		return tm
	}
	best.Kernels = min(best.Kernels, tm.Kernels)
	best.Total = min(best.Total, tm.Total)
	return best
}

func fill(r result, direction string, tm gpuaccel.Timing, info gpuaccel.Info) result {
	r.Direction = direction
	r.KernelSeconds = tm.Kernels.Seconds()
	r.TotalSeconds = tm.Total.Seconds()
	r.KernelGBps = gbps(r.RawBytes, tm.Kernels)
	r.TotalGBps = gbps(r.RawBytes, tm.Total)
	if info.PeakBandwidth > 0 {
		r.KernelOfPeak = r.KernelGBps * 1e9 / info.PeakBandwidth
		r.TotalOfPeak = r.TotalGBps * 1e9 / info.PeakBandwidth
	}
	return r
}

func gbps(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds() / 1e9
}
