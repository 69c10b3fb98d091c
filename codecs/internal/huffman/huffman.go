// Package huffman implements canonical, length-limited Huffman coding of
// uint16 symbols (an alphabet of up to 65536 symbols).
//
// AppendEncode writes one block: a code table followed by a bitstream.
//
//	uvarint  nsym          number of distinct symbols, 0..65536
//	uvarint  first symbol  (only when nsym > 0)
//	uvarint  gap[i] - 1    for each further symbol, gap[i] = sym[i] - sym[i-1]
//	byte     len[i]        code length of each symbol in symbol order, 1..MaxCodeLen
//	uvarint  nbytes        size of the bitstream in bytes
//	nbytes   bitstream     codes written MSB first, the last byte zero-padded
//
// Symbols are listed in ascending order, so the gaps are positive. Codes are
// canonical: they are assigned in order of (length, symbol), so the lengths
// alone define them. The lengths of two or more symbols must form a complete
// prefix code (Kraft sum exactly 1). A single symbol has length 1 and code 0.
package huffman

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

const (
	// MaxSymbols is the alphabet size.
	MaxSymbols = 1 << 16
	// MaxCodeLen is the longest code length AppendEncode produces and
	// Decode accepts.
	MaxCodeLen = 24
	// MaxBlockSymbols is the largest number of symbols one block may hold,
	// because symbol frequencies are counted in uint32.
	MaxBlockSymbols = math.MaxUint32

	// tableBits is the index width of the decoder's lookup table. Codes up
	// to this length decode with one lookup, longer ones take slowSymbol.
	tableBits = 12
)

// ErrCorrupt marks a block that cannot be decoded.
var ErrCorrupt = errors.New("huffman: corrupt block")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// encoder holds the per-call state of AppendEncode. It is pooled because the
// two symbol-indexed arrays take 512 KiB.
type encoder struct {
	// freq counts each symbol. It is all zero between calls: AppendEncode
	// clears the used entries before returning the encoder to the pool.
	freq [MaxSymbols]uint32
	// codes holds code<<8 | length for each used symbol.
	codes [MaxSymbols]uint32
	used  []uint16 // distinct symbols in ascending order
	keys  []uint64 // freq<<16 | index into used, sorted by frequency
	lens  []uint8  // code length of used[i]
	depth []uint64 // scratch for minimumRedundancy
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// AppendEncode appends a block that codes syms to dst. It returns an error only
// when syms has more than MaxBlockSymbols symbols.
func AppendEncode(dst []byte, syms []uint16) ([]byte, error) {
	if uint64(len(syms)) > MaxBlockSymbols {
		return dst, fmt.Errorf("huffman: block of %d symbols exceeds the limit of %d", len(syms), uint64(MaxBlockSymbols))
	}
	e := encoderPool.Get().(*encoder)
	defer encoderPool.Put(e)

	for _, s := range syms {
		e.freq[s]++
	}
	e.used = e.used[:0]
	for s := range e.freq {
		if e.freq[s] != 0 {
			e.used = append(e.used, uint16(s))
		}
	}
	e.buildLengths()
	e.assignCodes()

	dst = appendTable(dst, e.used, e.lens)

	var nbits uint64
	for i, s := range e.used {
		nbits += uint64(e.freq[s]) * uint64(e.lens[i])
		e.freq[s] = 0
	}
	nbytes := int((nbits + 7) / 8)
	dst = binary.AppendUvarint(dst, uint64(nbytes))
	return e.writeBits(dst, syms, nbytes), nil
}

// buildLengths sets e.lens to length-limited Huffman code lengths for e.used.
func (e *encoder) buildLengths() {
	n := len(e.used)
	e.lens = slices.Grow(e.lens[:0], n)[:n]
	switch n {
	case 0:
		return
	case 1:
		e.lens[0] = 1
		return
	}

	// Sort by ascending frequency, ties by symbol so the output is
	// deterministic. The low 16 bits of a key are the index into e.used,
	// which is in symbol order.
	e.keys = e.keys[:0]
	for i, s := range e.used {
		e.keys = append(e.keys, uint64(e.freq[s])<<16|uint64(i))
	}
	slices.Sort(e.keys)

	e.depth = slices.Grow(e.depth[:0], n)[:n]
	depth := e.depth
	for i, k := range e.keys {
		depth[i] = k >> 16
	}
	minimumRedundancy(depth)

	// depth[i] is the unrestricted length of the i-th least frequent symbol.
	// Count the codes of each length, clamping lengths over MaxCodeLen.
	var count [MaxCodeLen + 1]int
	for _, d := range depth {
		count[min(d, MaxCodeLen)]++
	}
	limitLengths(&count)

	// Hand out the lengths, shortest first, to the most frequent symbols.
	i := n - 1
	for l := 1; l <= MaxCodeLen; l++ {
		for range count[l] {
			e.lens[uint16(e.keys[i])] = uint8(l)
			i--
		}
	}
}

// minimumRedundancy replaces the frequencies in a, sorted ascending, by the
// code lengths of an optimal (unrestricted) prefix code. It is the in-place
// algorithm of A. Moffat and J. Katajainen, "In-place calculation of
// minimum-redundancy codes", WADS 1995. len(a) must be at least 2.
func minimumRedundancy(a []uint64) {
	n := len(a)
	// First pass, left to right: build the tree, storing parent pointers.
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = uint64(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = uint64(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	// Second pass, right to left: internal node depths.
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	// Third pass, right to left: leaf depths.
	avail, used, depth := 1, 0, uint64(0)
	root, next := n-2, n-1
	for avail > 0 {
		for root >= 0 && a[root] == depth {
			used++
			root--
		}
		for avail > used {
			a[next] = depth
			next--
			avail--
		}
		avail = 2 * used
		depth++
		used = 0
	}
}

// limitLengths turns count, the number of codes of each length after lengths
// over MaxCodeLen were clamped to MaxCodeLen, into the counts of a complete
// prefix code with the same number of codes. Clamping over-subscribes the
// code (Kraft sum above 1). Each step removes one code of length MaxCodeLen
// and splits the longest shorter code into two one bit longer, which lowers
// the Kraft sum by exactly 2^-MaxCodeLen and keeps the number of codes. This
// is the method of miniz's tdefl_huffman_enforce_max_code_size. It needs
// at most 2^MaxCodeLen codes, which MaxSymbols guarantees.
func limitLengths(count *[MaxCodeLen + 1]int) {
	var total uint64
	for l := 1; l <= MaxCodeLen; l++ {
		total += uint64(count[l]) << (MaxCodeLen - l)
	}
	for total > 1<<MaxCodeLen {
		count[MaxCodeLen]--
		for l := MaxCodeLen - 1; l > 0; l-- {
			if count[l] != 0 {
				count[l]--
				count[l+1] += 2
				break
			}
		}
		total--
	}
}

// assignCodes fills e.codes with the canonical codes for e.used and e.lens.
func (e *encoder) assignCodes() {
	var count [MaxCodeLen + 1]uint32
	for _, l := range e.lens {
		count[l]++
	}
	next := canonicalFirstCodes(&count)
	for i, s := range e.used {
		l := e.lens[i]
		e.codes[s] = next[l]<<8 | uint32(l)
		next[l]++
	}
}

// canonicalFirstCodes returns the first canonical code of each length.
func canonicalFirstCodes(count *[MaxCodeLen + 1]uint32) [MaxCodeLen + 2]uint32 {
	var first [MaxCodeLen + 2]uint32
	code := uint32(0)
	for l := 2; l <= MaxCodeLen+1; l++ {
		code = (code + count[l-1]) << 1
		first[l] = code
	}
	return first
}

func appendTable(dst []byte, used []uint16, lens []uint8) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(used)))
	for i, s := range used {
		if i == 0 {
			dst = binary.AppendUvarint(dst, uint64(s))
		} else {
			dst = binary.AppendUvarint(dst, uint64(s-used[i-1]-1))
		}
	}
	return append(dst, lens...)
}

// writeBits appends the nbytes-byte bitstream of syms to dst. Codes are
// gathered in a 64-bit accumulator two at a time: at most 7 pending bits plus
// two codes of up to MaxCodeLen bits fit in it. After each pair the pending
// bits are stored left-justified as a whole uint64 and the position advances
// over the complete bytes only, so the next store rewrites the partial byte.
// That keeps the loop free of branches on the bit count.
func (e *encoder) writeBits(dst []byte, syms []uint16, nbytes int) []byte {
	start := len(dst)
	// Eight spare bytes let every store write a whole uint64.
	dst = slices.Grow(dst, nbytes+8)[:start+nbytes+8]
	out := dst[start:]
	codes := &e.codes
	var acc uint64 // the low nacc bits are pending, older bits above them
	var nacc uint
	pos := 0
	pairs := len(syms) &^ 1
	for k := 0; k < pairs; k += 2 {
		c0, c1 := codes[syms[k]], codes[syms[k+1]]
		l0, l1 := uint(c0&0xff), uint(c1&0xff)
		acc = (acc<<l0|uint64(c0>>8))<<l1 | uint64(c1>>8)
		nacc += l0 + l1
		binary.BigEndian.PutUint64(out[pos:], acc<<(64-nacc))
		pos += int(nacc >> 3)
		nacc &= 7
	}
	if pairs < len(syms) {
		c := codes[syms[pairs]]
		l := uint(c & 0xff)
		acc = acc<<l | uint64(c>>8)
		nacc += l
		binary.BigEndian.PutUint64(out[pos:], acc<<(64-nacc))
		pos += int(nacc >> 3)
		nacc &= 7
	}
	if nacc > 0 {
		// The last store left the partial byte zero-padded.
		pos++
	}
	if pos != nbytes {
		panic(fmt.Sprintf("huffman: wrote %d bitstream bytes, computed %d", pos, nbytes))
	}
	return dst[:start+nbytes]
}
