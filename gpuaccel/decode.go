package gpuaccel

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/epsilon-db/epsilon/codecs"
)

// Payload is one chunk of a decode batch: a block payload, the parameters
// from its stream header, and the destination of p.Count() raw values.
type Payload struct {
	Data   []byte
	Params codecs.Params
	Dst    []byte
}

// Error codes of block.cu (ERR_*), as messages.
var kernelErrors = [...]string{
	1: "has a bit width above 32",
	2: "has invalid exception kind 3",
	3: "has non-zero exception kind bits past the last block",
	4: "has a first residual that exceeds 32 bits",
	5: "is marked as fill in a chunk without a fill value",
	6: "has invalid exception masks",
	7: "has fill exceptions in a chunk without a fill value",
}

// decode decodes every payload into its destination, in one launch of each
// kernel for the whole batch. All payloads must have the same dtype. A
// malformed payload returns an error wrapping codecs.ErrCorrupt that names
// the chunk's index in the batch; the destinations are then undefined.
func (e *engine) decode(items []Payload) (Timing, error) {
	var tm Timing
	if len(items) == 0 {
		return tm, nil
	}
	start := time.Now()
	dtype := items[0].Params.DType
	rows := make([]chunkRow, len(items))
	var inLen, outLen, nblocks uint64
	for i, it := range items {
		if it.Params.DType != dtype {
			return tm, fmt.Errorf("gpuaccel: chunk %d has dtype %s, the batch has %s", i, it.Params.DType, dtype)
		}
		r, err := parseHeader(it.Data, it.Params, len(it.Dst))
		if err != nil {
			return tm, fmt.Errorf("chunk %d: %w", i, err)
		}
		r.blk0 = nblocks
		r.src, r.dst = inLen, outLen
		inLen = align16(inLen + uint64(len(it.Data)))
		outLen = align16(outLen + uint64(len(it.Dst)))
		nblocks += blockCount(it.Params.Count())
		rows[i] = r
	}
	kernel := "f32"
	if dtype == codecs.Float64 {
		kernel = "f64"
	}

	in, err := e.hostBuffer("in", int(inLen))
	if err != nil {
		return tm, err
	}
	for i, it := range items {
		copy(in[rows[i].src:], it.Data)
	}
	table, err := e.hostBuffer("table", len(rows)*chunkDescLen)
	if err != nil {
		return tm, err
	}
	putRows(table, rows)
	ptr := map[string]uint64{}
	sizes := map[string]uint64{
		"in": inLen, "table": uint64(len(table)), "out": outLen, "err": 8 * uint64(len(rows)),
		"body": 4 * (nblocks + 1), "mixed": 4 * (nblocks + 1), "verb": 4 * (nblocks + 1),
		"totals": 12 * uint64(len(rows)),
	}
	for name, n := range sizes {
		if ptr[name], err = e.devBuffer(name, n); err != nil {
			return tm, err
		}
	}
	if err := e.be.htod(ptr["in"], in); err != nil {
		return tm, err
	}
	if err := e.be.htod(ptr["table"], table); err != nil {
		return tm, err
	}

	stop, err := e.be.startTimer()
	if err != nil {
		return tm, err
	}
	nchunks := uint32(len(rows))
	if err := e.be.memset(ptr["err"], 0xff, 8*uint64(nchunks)); err != nil {
		return tm, err
	}
	err = e.launchOver("block_dec_sizes", nblocks, ptr["table"], nchunks, nblocks, ptr["in"], ptr["body"], ptr["mixed"], ptr["err"])
	if err != nil {
		return tm, err
	}
	for _, name := range []string{"body", "mixed"} {
		if err := e.be.memset(ptr[name]+4*nblocks, 0, 4); err != nil {
			return tm, err
		}
		if err := e.scan(ptr[name], nblocks+1, 0); err != nil {
			return tm, err
		}
	}
	if err := e.checkKernelErrors(ptr["err"], nchunks); err != nil {
		return tm, err
	}
	totals, err := e.totals(ptr, nchunks, nblocks, "body", "mixed", "")
	if err != nil {
		return tm, err
	}
	for i, r := range rows {
		if body := uint64(totals[3*i]); body != r.body {
			return tm, corruptf("chunk %d: block descriptors need %d body bytes, the payload has %d", i, body, r.body)
		}
		if m := uint64(totals[3*i+1]); m != r.m {
			return tm, corruptf("chunk %d: block payload has %d mixed exception blocks, its header says %d", i, m, r.m)
		}
	}

	err = e.launchOver("block_dec_verbs", nblocks, ptr["table"], nchunks, nblocks, ptr["in"], ptr["mixed"], ptr["verb"])
	if err != nil {
		return tm, err
	}
	if err := e.scan(ptr["verb"], nblocks+1, 0); err != nil {
		return tm, err
	}
	if totals, err = e.totals(ptr, nchunks, nblocks, "verb", "", ""); err != nil {
		return tm, err
	}
	for i, r := range rows {
		if v := uint64(totals[3*i]); v != r.v {
			return tm, corruptf("chunk %d: block payload has %d verbatim values, the masks use %d", i, r.v, v)
		}
	}

	err = e.launchOver("block_decode_"+kernel, nblocks, ptr["table"], nchunks, nblocks, ptr["in"],
		ptr["body"], ptr["mixed"], ptr["verb"], ptr["out"], ptr["err"])
	if err != nil {
		return tm, err
	}
	if err := e.checkKernelErrors(ptr["err"], nchunks); err != nil {
		return tm, err
	}
	if tm.Kernels, err = stop(); err != nil {
		return tm, err
	}

	host, err := e.hostBuffer("out", int(outLen))
	if err != nil {
		return tm, err
	}
	if err := e.be.dtoh(host, ptr["out"]); err != nil {
		return tm, err
	}
	for i, it := range items {
		copy(it.Dst, host[rows[i].dst:])
	}
	tm.Total = time.Since(start)
	return tm, nil
}

// checkKernelErrors returns the first error a kernel recorded, naming the
// chunk and the block.
func (e *engine) checkKernelErrors(errPtr uint64, nchunks uint32) error {
	raw := make([]byte, 8*int(nchunks))
	if err := e.be.dtoh(raw, errPtr); err != nil {
		return err
	}
	for i := range int(nchunks) {
		rec := binary.LittleEndian.Uint64(raw[8*i:])
		if rec == math.MaxUint64 {
			continue
		}
		code := rec & 0xff
		msg := "has an error code this build does not know"
		if code < uint64(len(kernelErrors)) && kernelErrors[code] != "" {
			msg = kernelErrors[code]
		}
		return corruptf("chunk %d: block %d %s", i, rec>>8, msg)
	}
	return nil
}

// parseHeader checks the header and the section sizes of a block payload,
// as the CPU codec does before it reads any section, and returns the chunk
// row without its offsets. The descriptors, kinds and masks are checked by
// the kernels.
func parseHeader(payload []byte, p codecs.Params, dstLen int) (chunkRow, error) {
	var r chunkRow
	if !p.DType.IsFloat() {
		return r, corruptf("block payload for dtype %s, expected f32 or f64", p.DType)
	}
	if !(p.Bound > 0) || math.IsInf(p.Bound, 0) {
		return r, corruptf("block payload with bound %v, expected a finite bound greater than 0", p.Bound)
	}
	size := p.DType.Size()
	n := p.Count()
	if n < 1 || n*size != dstLen {
		return r, fmt.Errorf("block: destination has %d bytes, chunk shape %v of %s needs %d", dstLen, p.Shape, p.DType, n*size)
	}
	if len(payload) < blockHeaderLen {
		return r, corruptf("block payload of %d bytes is shorter than its %d-byte header", len(payload), blockHeaderLen)
	}
	if payload[0] != blockVersion {
		return r, corruptf("block payload version %d, this build reads version %d", payload[0], blockVersion)
	}
	if codecs.DType(payload[1]) != p.DType {
		return r, corruptf("block payload holds dtype %s, the header says %s", codecs.DType(payload[1]), p.DType)
	}
	if payload[2] != blockLen {
		return r, corruptf("block payload has blocks of %d values, this build reads %d", payload[2], blockLen)
	}
	for _, b := range payload[3:8] {
		if b != 0 {
			return r, corruptf("block payload has non-zero reserved bytes %x", payload[3:8])
		}
	}
	if eb := math.Float64frombits(binary.LittleEndian.Uint64(payload[8:])); eb != p.Bound {
		return r, corruptf("block payload bound %v differs from the header bound %v", eb, p.Bound)
	}
	if count := binary.LittleEndian.Uint64(payload[16:]); count != uint64(n) {
		return r, corruptf("block value count %d does not match shape %v", count, p.Shape)
	}
	nb := blockCount(n)
	r = newRow(p, 0)
	r.m = binary.LittleEndian.Uint64(payload[24:])
	r.v = binary.LittleEndian.Uint64(payload[32:])
	r.body = binary.LittleEndian.Uint64(payload[40:])
	if r.m > nb || r.v > uint64(n) || r.body > nb*132 {
		return r, corruptf("block section sizes m=%d v=%d B=%d are invalid for %d values", r.m, r.v, r.body, n)
	}
	if want := payloadLen(&r, size); uint64(len(payload)) != want {
		return r, corruptf("block payload has %d bytes, its header needs %d", len(payload), want)
	}
	for _, b := range payload[blockHeaderLen+nb+(nb+3)/4 : sectionsEnd(nb)] {
		if b != 0 {
			return r, corruptf("block payload has non-zero padding")
		}
	}
	return r, nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", codecs.ErrCorrupt, fmt.Sprintf(format, args...))
}
