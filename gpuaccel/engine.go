package gpuaccel

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/epsilon-db/epsilon/codecs"
)

// engine runs block encode and decode batches on a backend. It keeps its
// device and page-locked host buffers between calls and grows them on
// demand. An engine is not safe for concurrent use; the package serializes
// calls.
type engine struct {
	be   backend
	dev  map[string]devBuf
	host map[string][]byte
}

type devBuf struct {
	ptr  uint64
	size uint64
}

// Timing is the time one batch took: Kernels from the first kernel launch to
// the end of the last one (including the small copies of per-chunk totals
// in between), Total including the input and output transfers.
type Timing struct {
	Kernels time.Duration
	Total   time.Duration
}

func newEngine(be backend) *engine {
	return &engine{be: be, dev: map[string]devBuf{}, host: map[string][]byte{}}
}

// close frees every buffer of e.
func (e *engine) close() {
	for _, b := range e.dev {
		e.be.free(b.ptr)
	}
	for _, b := range e.host {
		e.be.hostFree(b)
	}
	e.dev, e.host = map[string]devBuf{}, map[string][]byte{}
}

// devBuffer returns the device buffer called name with at least n bytes.
func (e *engine) devBuffer(name string, n uint64) (uint64, error) {
	n = max(n, 16)
	if b, ok := e.dev[name]; ok && b.size >= n {
		return b.ptr, nil
	}
	if b, ok := e.dev[name]; ok {
		e.be.free(b.ptr)
		delete(e.dev, name)
	}
	size := n + n/4 // room to grow
	ptr, err := e.be.alloc(size)
	if err != nil {
		return 0, fmt.Errorf("gpuaccel: allocating %d bytes of device memory for %s: %w", size, name, err)
	}
	e.dev[name] = devBuf{ptr, size}
	return ptr, nil
}

// hostBuffer returns the page-locked host buffer called name, n bytes long.
func (e *engine) hostBuffer(name string, n int) ([]byte, error) {
	n = max(n, 16)
	if b, ok := e.host[name]; ok && cap(b) >= n {
		return b[:n], nil
	}
	if b, ok := e.host[name]; ok {
		e.be.hostFree(b)
		delete(e.host, name)
	}
	size := n + n/4
	b, err := e.be.hostAlloc(size)
	if err != nil {
		return nil, fmt.Errorf("gpuaccel: allocating %d bytes of page-locked host memory for %s: %w", size, name, err)
	}
	e.host[name] = b
	return b[:n], nil
}

func (e *engine) launchOver(kernel string, threads uint64, args ...any) error {
	grid, err := gridFor(threads)
	if err != nil {
		return err
	}
	return e.be.launch(kernel, grid, threadsPerBlock, args...)
}

// scan replaces the count uint32 entries at a by their exclusive prefix
// sums. Level names the scratch buffers of one recursion depth.
func (e *engine) scan(a, count uint64, level int) error {
	if count <= scanSerialMax {
		return e.be.launch("scan_serial", 1, 1, a, count)
	}
	nsums := (count + scanPer - 1) / scanPer
	sums, err := e.devBuffer(fmt.Sprintf("scan%d", level), 4*nsums)
	if err != nil {
		return err
	}
	if err := e.launchOver("scan_reduce", nsums, a, count, uint32(scanPer), sums); err != nil {
		return err
	}
	if err := e.scan(sums, nsums, level+1); err != nil {
		return err
	}
	return e.launchOver("scan_apply", nsums, a, count, uint32(scanPer), sums)
}

// chunkRow is one row of the chunk table (ChunkDesc in block.cu).
type chunkRow struct {
	src, dst, n, blk0 uint64
	eb, twoEB, inv    float64
	fillBits, hasFill uint64
	m, v, body        uint64
}

func putRows(b []byte, rows []chunkRow) {
	for i, r := range rows {
		f := []uint64{r.src, r.dst, r.n, r.blk0, math.Float64bits(r.eb), math.Float64bits(r.twoEB),
			math.Float64bits(r.inv), r.fillBits, r.hasFill, r.m, r.v, r.body, 0}
		for j, x := range f {
			binary.LittleEndian.PutUint64(b[i*chunkDescLen+8*j:], x)
		}
	}
}

// newRow fills the fields of a chunk row that come from the parameters, with
// the arithmetic of the CPU codec: twoEB = 2*eb and inv = 1/twoEB, each
// rounded to float64.
func newRow(p codecs.Params, blk0 uint64) chunkRow {
	twoEB := float64(2 * p.Bound)
	r := chunkRow{n: uint64(p.Count()), blk0: blk0, eb: p.Bound, twoEB: twoEB, inv: float64(1 / twoEB)}
	if p.HasFill {
		r.hasFill = 1
		if p.DType == codecs.Float32 {
			r.fillBits = uint64(math.Float32bits(float32(p.Fill)))
		} else {
			r.fillBits = math.Float64bits(p.Fill)
		}
	}
	return r
}

func align16(n uint64) uint64 { return (n + 15) &^ 15 }

func blockCount(n int) uint64 { return uint64(n+blockLen-1) / blockLen }

const (
	blockLen       = 32
	blockHeaderLen = 48
	blockVersion   = 1
)

// sectionsEnd returns the offset of the mask records: the header, the
// descriptors and the kinds, padded to a multiple of 8.
func sectionsEnd(nb uint64) uint64 {
	return (blockHeaderLen + nb + (nb+3)/4 + 7) &^ 7
}

// checkEncodable returns the error the CPU block codec returns for p and
// src, or nil.
func checkEncodable(src []byte, p codecs.Params) error {
	if !p.DType.IsFloat() {
		return fmt.Errorf("block: dtype %s: %w", p.DType, codecs.ErrUnsupported)
	}
	if !(p.Bound > 0) || math.IsInf(p.Bound, 0) {
		return fmt.Errorf("block: bound %v must be finite and greater than 0: %w", p.Bound, codecs.ErrUnsupported)
	}
	n := p.Count()
	if n < 1 || n*p.DType.Size() != len(src) {
		return fmt.Errorf("block: chunk shape %v of %s needs %d bytes, got %d", p.Shape, p.DType, n*p.DType.Size(), len(src))
	}
	return nil
}
