package store

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// A chunk that a write covers only in part cannot simply be decoded, merged
// and encoded lossily again: its other values are already approximations,
// and a second quantization could move them up to twice the bound from
// their originals. So a partly written chunk is staged: it is stored
// losslessly, and a coverage bitmap (one bit per value, C order, bit i%64 of
// word i/64, little-endian words) records which values are originals
// written by the caller. Once every bit is set, the chunk holds only
// originals and is encoded lossily. Values that were decoded from a lossy
// chunk keep a zero bit, so such a chunk stays lossless until a write covers
// all of it again.

type coverage []uint64

func newCoverage(n int) coverage { return make(coverage, (n+63)/64) }

func (c coverage) setAll(n int) {
	for i := range c {
		c[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		c[len(c)-1] = 1<<r - 1
	}
}

// full reports whether all n bits are set.
func (c coverage) full(n int) bool {
	count := 0
	for _, w := range c {
		count += bits.OnesCount64(w)
	}
	return count == n
}

// mark sets the bits of box (offset start, shape count) inside a chunk of
// shape.
func (c coverage) mark(shape chunk.Shape, start []int, count chunk.Shape) {
	_ = chunk.Runs(shape, start, count, func(off, n int) error {
		for i := off; i < off+n; i++ {
			c[i/64] |= 1 << (i % 64)
		}
		return nil
	})
}

func (c coverage) encode() []byte {
	raw := make([]byte, 0, 8*len(c))
	for _, w := range c {
		raw = append(raw, byte(w), byte(w>>8), byte(w>>16), byte(w>>24), byte(w>>32), byte(w>>40), byte(w>>48), byte(w>>56))
	}
	p := codecs.Params{DType: codecs.Uint64, Shape: []int{max(len(c), 1)}}
	if len(c) == 0 {
		raw = make([]byte, 8)
	}
	stream, err := codecs.Encode(nil, codecs.Lossless, codecs.Bound{}, p, raw)
	if err != nil {
		panic(fmt.Sprintf("store: encode coverage bitmap: %v", err)) // the params are valid by construction
	}
	return stream
}

func decodeCoverage(stream []byte, n int) (coverage, error) {
	words := (n + 63) / 64
	raw := make([]byte, 8*max(words, 1))
	if _, err := codecs.Decode(raw, stream); err != nil {
		return nil, fmt.Errorf("coverage bitmap: %w", err)
	}
	c := make(coverage, words)
	for i := range c {
		c[i] = uint64(raw[8*i]) | uint64(raw[8*i+1])<<8 | uint64(raw[8*i+2])<<16 | uint64(raw[8*i+3])<<24 |
			uint64(raw[8*i+4])<<32 | uint64(raw[8*i+5])<<40 | uint64(raw[8*i+6])<<48 | uint64(raw[8*i+7])<<56
	}
	return c, nil
}

// loadStaged reads the current state of chunk coords for a partial write:
// its values into buf and its coverage. A chunk never written is all fill
// with no coverage; a complete lossless chunk is all originals; a complete
// lossy chunk has no originals.
func (db *DB) loadStaged(info *ArrayInfo, coords []int, region chunk.Region, buf []byte) (coverage, error) {
	n := region.Count()
	stream, closer, err := db.pdb.Get(appendChunkKey(nil, info.ID, coords))
	if errors.Is(err, pebble.ErrNotFound) && info.Complete {
		return nil, db.missingChunk(info, coords)
	}
	if errors.Is(err, pebble.ErrNotFound) {
		p := info.params(nil)
		fillBytes(buf, info.DType, p.HasFill, p.Fill)
		return newCoverage(n), nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	if err := db.decodeStored(db.pdb, nil, info, coords, region, stream, buf); err != nil {
		return nil, err
	}
	h, _, err := codecs.ParseHeader(stream)
	if err != nil {
		return nil, err
	}
	if h.AbsBound > 0 {
		// Lossy: every value is an approximation, whatever a bitmap says.
		return newCoverage(n), nil
	}
	cstream, ccloser, err := db.pdb.Get(appendCoverageKey(nil, info.ID, coords))
	if err == nil {
		defer ccloser.Close()
		cov, err := decodeCoverage(cstream, n)
		if err != nil {
			return nil, fmt.Errorf("array %q chunk %v: %w", info.Name, coords, err)
		}
		return cov, nil
	}
	if !errors.Is(err, pebble.ErrNotFound) {
		return nil, err
	}
	if info.RecompressedBound > 0 {
		// A lossless chunk of a recompressed array may hold decoded values
		// (the lossy encoding fell back to lossless), so none counts as an
		// original.
		return newCoverage(n), nil
	}
	// A complete lossless chunk holds only originals.
	cov := newCoverage(n)
	cov.setAll(n)
	return cov, nil
}
