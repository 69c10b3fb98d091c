package huffman

import (
	"encoding/binary"
	"sync"
)

// decoder holds the tables for one block. It is pooled because sorted takes
// 128 KiB.
type decoder struct {
	// table maps the next tableBits bits of the stream to symbol<<8 |
	// length. Length 0 means the code is longer than tableBits.
	table [1 << tableBits]uint32
	// sorted lists the symbols in canonical order (by length, then symbol).
	sorted [MaxSymbols]uint16
	// limit[l] is one past the last code of length l, left-justified to
	// MaxCodeLen bits. Codes of length up to l are exactly the
	// left-justified values below limit[l].
	limit [MaxCodeLen + 1]uint32
	// first[l] is the first code of length l, offset[l] the index in
	// sorted of its symbol.
	first  [MaxCodeLen + 1]uint32
	offset [MaxCodeLen + 1]int32
	maxLen uint

	syms []uint16
	lens []uint8
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

// Decode decodes exactly len(dst) symbols from the block at the start of src
// and returns the number of bytes of src the block takes. A malformed block
// returns an error wrapping ErrCorrupt. Decode never reads outside src.
func Decode(dst []uint16, src []byte) (int, error) {
	d := decoderPool.Get().(*decoder)
	defer decoderPool.Put(d)

	n, err := d.readTable(src)
	if err != nil {
		return 0, err
	}
	nbytes, k := binary.Uvarint(src[n:])
	if k <= 0 {
		return 0, corruptf("bad bitstream length")
	}
	n += k
	if nbytes > uint64(len(src)-n) {
		return 0, corruptf("bitstream of %d bytes, only %d left in the block", nbytes, len(src)-n)
	}
	stream := src[n : n+int(nbytes)]
	n += int(nbytes)

	if len(dst) == 0 {
		if nbytes != 0 {
			return 0, corruptf("%d bitstream bytes for 0 symbols", nbytes)
		}
		return n, nil
	}
	if len(d.syms) == 0 {
		return 0, corruptf("empty code table for %d symbols", len(dst))
	}
	// A code is at least one bit long, so a valid stream has at least
	// len(dst)/8 bytes. The check stops a short corrupt stream from being
	// expanded into a huge number of symbols.
	if uint64(len(dst)) > nbytes*8 {
		return 0, corruptf("bitstream of %d bytes cannot hold %d symbols", nbytes, len(dst))
	}
	if err := d.decodeStream(dst, stream); err != nil {
		return 0, err
	}
	return n, nil
}

// readTable parses the code table at the start of src, builds the decoding
// tables and returns the table size in bytes.
func (d *decoder) readTable(src []byte) (int, error) {
	nsym, n := binary.Uvarint(src)
	if n <= 0 {
		return 0, corruptf("bad symbol count")
	}
	if nsym > MaxSymbols {
		return 0, corruptf("table has %d symbols, at most %d allowed", nsym, MaxSymbols)
	}
	// Each symbol takes at least one gap byte and one length byte.
	if nsym*2 > uint64(len(src)-n) {
		return 0, corruptf("table of %d symbols truncated at %d bytes", nsym, len(src)-n)
	}
	d.syms = d.syms[:0]
	prev := -1
	for i := range int(nsym) {
		v, k := binary.Uvarint(src[n:])
		if k <= 0 {
			return 0, corruptf("bad gap of symbol %d", i)
		}
		n += k
		if v >= MaxSymbols {
			return 0, corruptf("symbol %d: gap %d out of range", i, v)
		}
		sym := prev + 1 + int(v)
		if sym >= MaxSymbols {
			return 0, corruptf("symbol %d is %d, above the largest symbol %d", i, sym, MaxSymbols-1)
		}
		d.syms = append(d.syms, uint16(sym))
		prev = sym
	}
	if int(nsym) > len(src)-n {
		return 0, corruptf("code lengths truncated")
	}
	d.lens = append(d.lens[:0], src[n:n+int(nsym)]...)
	n += int(nsym)
	if nsym == 0 {
		return n, nil
	}

	var count [MaxCodeLen + 1]uint32
	var kraft uint64
	d.maxLen = 0
	for i, l := range d.lens {
		if l < 1 || l > MaxCodeLen {
			return 0, corruptf("symbol %d has code length %d, allowed are 1 to %d", d.syms[i], l, MaxCodeLen)
		}
		count[l]++
		kraft += 1 << (MaxCodeLen - l)
		d.maxLen = max(d.maxLen, uint(l))
	}
	switch {
	case nsym == 1:
		if d.lens[0] != 1 {
			return 0, corruptf("single symbol has code length %d, expected 1", d.lens[0])
		}
	case kraft > 1<<MaxCodeLen:
		return 0, corruptf("code lengths are over-subscribed (Kraft sum %d/%d)", kraft, uint64(1)<<MaxCodeLen)
	case kraft < 1<<MaxCodeLen:
		return 0, corruptf("code lengths are incomplete (Kraft sum %d/%d)", kraft, uint64(1)<<MaxCodeLen)
	}
	d.build(&count)
	return n, nil
}

// build fills sorted, first, offset, limit and table from d.syms and d.lens.
func (d *decoder) build(count *[MaxCodeLen + 1]uint32) {
	first := canonicalFirstCodes(count)
	var next [MaxCodeLen + 1]int32
	off := int32(0)
	for l := 1; l <= MaxCodeLen; l++ {
		d.first[l] = first[l]
		d.offset[l] = off
		next[l] = off
		off += int32(count[l])
		d.limit[l] = (first[l] + count[l]) << (MaxCodeLen - l)
	}
	for i, s := range d.syms {
		l := d.lens[i]
		d.sorted[next[l]] = s
		next[l]++
	}

	clear(d.table[:])
	code := [MaxCodeLen + 1]uint32{}
	copy(code[:], first[:MaxCodeLen+1])
	for i, s := range d.syms {
		l := uint(d.lens[i])
		c := code[l]
		code[l]++
		if l > tableBits {
			continue
		}
		e := uint32(s)<<8 | uint32(l)
		lo := c << (tableBits - l)
		hi := (c + 1) << (tableBits - l)
		for j := lo; j < hi; j++ {
			d.table[j] = e
		}
	}
}

// slowSymbol decodes a code longer than tableBits from the left-justified
// bits. The table sends only such codes here, and in a complete code they are
// exactly the values at or above limit[tableBits]. It returns length 0 when
// no code matches, which happens only for the unused code "1" of a
// single-symbol table.
func (d *decoder) slowSymbol(bits uint64) (uint16, uint) {
	v := uint32(bits >> (64 - MaxCodeLen))
	for l := uint(tableBits + 1); l <= d.maxLen; l++ {
		if v < d.limit[l] {
			idx := d.offset[l] + int32(v>>(MaxCodeLen-l)) - int32(d.first[l])
			return d.sorted[uint16(idx)], l
		}
	}
	return 0, 0
}

// decodeStream decodes len(dst) symbols from stream, which must be used up
// exactly: no more bits than it holds, and no whole byte left over.
//
// The reader keeps the next bits left-justified in bits, nb of them valid.
// The stream bits [8*pos-nb, 8*pos) are the valid ones, so 8*pos-nb bits
// have been consumed. Bits below the valid ones are either zero or the
// correct following stream bits, so OR-ing in a reload is harmless.
func (d *decoder) decodeStream(dst []uint16, stream []byte) error {
	var bits uint64
	var nb uint
	pos := 0
	i := 0
	table := &d.table

	// Fast path: a refill leaves at least 56 valid bits, enough for two
	// codes of up to MaxCodeLen bits.
	for i+2 <= len(dst) && pos+8 <= len(stream) {
		bits |= binary.BigEndian.Uint64(stream[pos:]) >> nb
		pos += int((63 - nb) >> 3)
		nb |= 56

		e := table[bits>>(64-tableBits)]
		sym, l := uint16(e>>8), uint(e&0xff)
		if l == 0 {
			if sym, l = d.slowSymbol(bits); l == 0 {
				return corruptf("invalid code at symbol %d", i)
			}
		}
		dst[i] = sym
		bits <<= l
		nb -= l

		e = table[bits>>(64-tableBits)]
		sym, l = uint16(e>>8), uint(e&0xff)
		if l == 0 {
			if sym, l = d.slowSymbol(bits); l == 0 {
				return corruptf("invalid code at symbol %d", i+1)
			}
		}
		dst[i+1] = sym
		bits <<= l
		nb -= l
		i += 2
	}

	// Tail: refill byte by byte, then with zero bits past the end of the
	// stream, and check after each code that the stream was not overrun.
	pad := 0
	limit := 8 * len(stream)
	for ; i < len(dst); i++ {
		for nb <= 56 {
			if pos < len(stream) {
				bits |= uint64(stream[pos]) << (56 - nb)
				pos++
			} else {
				pad++
			}
			nb += 8
		}
		e := table[bits>>(64-tableBits)]
		sym, l := uint16(e>>8), uint(e&0xff)
		if l == 0 {
			if sym, l = d.slowSymbol(bits); l == 0 {
				return corruptf("invalid code at symbol %d", i)
			}
		}
		dst[i] = sym
		bits <<= l
		nb -= l
		if 8*(pos+pad)-int(nb) > limit {
			return corruptf("bitstream of %d bytes ends before symbol %d of %d", len(stream), i, len(dst))
		}
	}
	consumed := 8*(pos+pad) - int(nb)
	if consumed > limit {
		return corruptf("bitstream of %d bytes is too short for %d symbols", len(stream), len(dst))
	}
	if (consumed+7)/8 != len(stream) {
		return corruptf("bitstream has %d bytes, its codes take %d bits", len(stream), consumed)
	}
	return nil
}
