package gpuaccel

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/epsilon-db/epsilon/codecs"
)

// Chunk is one chunk of an encode batch: raw little-endian values and the
// parameters the CPU codec would get.
type Chunk struct {
	Src    []byte
	Params codecs.Params
}

// encode writes the block payload of every chunk, in one launch of each
// kernel for the whole batch. All chunks must have the same dtype. The
// payloads are byte for byte those of codecs.Block.AppendEncode.
func (e *engine) encode(chunks []Chunk) ([][]byte, Timing, error) {
	var tm Timing
	if len(chunks) == 0 {
		return nil, tm, nil
	}
	start := time.Now()
	dtype := chunks[0].Params.DType
	for i, c := range chunks {
		if err := checkEncodable(c.Src, c.Params); err != nil {
			return nil, tm, fmt.Errorf("chunk %d: %w", i, err)
		}
		if c.Params.DType != dtype {
			return nil, tm, fmt.Errorf("gpuaccel: chunk %d has dtype %s, the batch has %s", i, c.Params.DType, dtype)
		}
	}
	kernel := "f32"
	if dtype == codecs.Float64 {
		kernel = "f64"
	}

	rows := make([]chunkRow, len(chunks))
	var inLen, nblocks uint64
	for i, c := range chunks {
		rows[i] = newRow(c.Params, nblocks)
		rows[i].src = inLen
		inLen = align16(inLen + uint64(len(c.Src)))
		nblocks += blockCount(c.Params.Count())
	}
	in, err := e.hostBuffer("in", int(inLen))
	if err != nil {
		return nil, tm, err
	}
	for i, c := range chunks {
		copy(in[rows[i].src:], c.Src)
	}
	table, err := e.hostBuffer("table", len(rows)*chunkDescLen)
	if err != nil {
		return nil, tm, err
	}
	putRows(table, rows)

	ptr := map[string]uint64{}
	sizes := map[string]uint64{
		"in": inLen, "table": uint64(len(table)), "desc": nblocks, "kind": nblocks,
		"body": 4 * (nblocks + 1), "mixed": 4 * (nblocks + 1), "verb": 4 * (nblocks + 1),
		"totals": 12 * uint64(len(rows)),
	}
	for name, n := range sizes {
		if ptr[name], err = e.devBuffer(name, n); err != nil {
			return nil, tm, err
		}
	}
	if err := e.be.htod(ptr["in"], in); err != nil {
		return nil, tm, err
	}
	if err := e.be.htod(ptr["table"], table); err != nil {
		return nil, tm, err
	}

	stop, err := e.be.startTimer()
	if err != nil {
		return nil, tm, err
	}
	nchunks := uint32(len(rows))
	err = e.launchOver("block_analyze_"+kernel, nblocks, ptr["table"], nchunks, nblocks, ptr["in"],
		ptr["desc"], ptr["kind"], ptr["body"], ptr["mixed"], ptr["verb"])
	if err != nil {
		return nil, tm, err
	}
	// The entry past the last block is 0, so the exclusive scan leaves
	// the batch total there.
	for _, name := range []string{"body", "mixed", "verb"} {
		if err := e.be.memset(ptr[name]+4*nblocks, 0, 4); err != nil {
			return nil, tm, err
		}
		if err := e.scan(ptr[name], nblocks+1, 0); err != nil {
			return nil, tm, err
		}
	}
	totals, err := e.totals(ptr, nchunks, nblocks, "body", "mixed", "verb")
	if err != nil {
		return nil, tm, err
	}

	var outLen uint64
	for i := range rows {
		r := &rows[i]
		r.body, r.m, r.v = uint64(totals[3*i]), uint64(totals[3*i+1]), uint64(totals[3*i+2])
		r.dst = outLen
		outLen = align16(outLen + payloadLen(r, dtype.Size()))
	}
	putRows(table, rows)
	if err := e.be.htod(ptr["table"], table); err != nil {
		return nil, tm, err
	}
	out, err := e.devBuffer("out", outLen)
	if err != nil {
		return nil, tm, err
	}
	err = e.launchOver("block_pack_"+kernel, nblocks, ptr["table"], nchunks, nblocks, ptr["in"],
		ptr["kind"], ptr["body"], ptr["mixed"], ptr["verb"], out)
	if err != nil {
		return nil, tm, err
	}
	if tm.Kernels, err = stop(); err != nil {
		return nil, tm, err
	}

	host, err := e.hostBuffer("out", int(outLen))
	if err != nil {
		return nil, tm, err
	}
	if err := e.be.dtoh(host, out); err != nil {
		return nil, tm, err
	}
	payloads := make([][]byte, len(rows))
	for i, r := range rows {
		payloads[i] = append([]byte(nil), host[r.dst:r.dst+payloadLen(&r, dtype.Size())]...)
	}
	tm.Total = time.Since(start)
	return payloads, tm, nil
}

// payloadLen returns the size of a payload with the section totals of r.
func payloadLen(r *chunkRow, size int) uint64 {
	return sectionsEnd(blockCount(int(r.n))) + 8*r.m + uint64(size)*r.v + r.body
}

// totals runs block_totals over up to three scanned arrays ("" for none) and
// returns three uint32 per chunk.
func (e *engine) totals(ptr map[string]uint64, nchunks uint32, nblocks uint64, names ...string) ([]uint32, error) {
	args := []any{ptr["table"], nchunks, nblocks}
	for _, n := range names {
		args = append(args, ptr[n]) // a missing name gives 0, a null array
	}
	args = append(args, ptr["totals"])
	if err := e.launchOver("block_totals", uint64(nchunks), args...); err != nil {
		return nil, err
	}
	raw := make([]byte, 12*int(nchunks))
	if err := e.be.dtoh(raw, ptr["totals"]); err != nil {
		return nil, err
	}
	out := make([]uint32, 3*int(nchunks))
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(raw[4*i:])
	}
	return out, nil
}
