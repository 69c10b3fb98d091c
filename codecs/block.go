package codecs

// Block payload (codec ID 4, name "block"), for float32 and float64 chunks
// with an absolute bound eb > 0. The design follows the cuSZp GPU
// compressor. Every block of 32 values is coded on its own, so one GPU
// thread (or thread group) can encode or decode one block. Exclusive prefix
// sums over per-block sizes give every block its place in the output. A GPU encoder must write these bytes
// exactly.
//
// The chunk is a flat sequence of n values in C order, whatever its shape.
// Block b holds values 32b to min(32b+32, n)-1, so there are nb = ceil(n/32)
// blocks and only the last one can be partial.
//
// Quantization. Each value x (float64(x) for float32) is quantized on its
// own, without prediction: qf = roundEven(x * inv) with inv = 1 / (2*eb) and
// twoEB = 2*eb, each operation a separately rounded IEEE-754 float64
// operation (no fused multiply-add). The value is reconstructed as
// x' = T(qf * twoEB), a float64 product rounded to the dtype T with round to
// nearest even. The encoder keeps q = int32(qf) when all of these hold, and
// makes x an exception otherwise:
//
//	-(2^30-1) <= qf <= 2^30-1
//	|x - float64(x')| <= eb, in float64 (false for NaN and infinities)
//	x is not equal to the fill value converted to T (when the chunk has one)
//
// An exception that has the bits of the fill value converted to T is a fill
// exception; every other one is a verbatim exception, whose raw bits are
// stored (NaN payloads included, and -0 against a fill value of +0).
//
// Exception slots and the padding slots of a partial last block carry a
// placeholder q, which the decoder computes and then ignores: the q of the
// nearest preceding slot of the same block that is not an exception, or,
// when no slot before it qualifies, the q of the first slot of the block
// that is not an exception, or 0 when the block has none.
//
// Residuals. Within a block, the 32 q values are 1-D Lorenzo coded with the
// first one predicted from 0: d[0] = q[0] and d[i] = q[i] - q[i-1] in int32
// (|d| < 2^31 because |q| < 2^30). Each residual is zigzag coded,
// z = uint32((d << 1) ^ (d >> 31)). The block's bit width w is the bit
// length of the largest z[1..31], 0 to 32. Slot 0 stores the low w bits of
// z[0], and the rest of z[0], e = z[0] >> w (0 when w = 32), goes to an
// extension field of k bytes, the smallest of 0, 1, 2 or 4 that holds e.
// A block whose q are all 0 therefore costs its descriptor byte only.
//
// Byte layout. All integers are little-endian. Offsets are from the start
// of the payload; no section stores an offset, so no size limit comes from
// the format itself.
//
//	offset  size        field
//	0       1           version, 1
//	1       1           dtype, the DType value (1 for f32, 2 for f64)
//	2       1           block length, 32
//	3       5           reserved, zero
//	8       8           eb, float64; must equal the stream header's bound
//	16      8           n, uint64, the number of values
//	24      8           m, uint64, the number of mixed exception blocks
//	32      8           v, uint64, the number of verbatim values
//	40      8           B, uint64, the total size of the block bodies
//	48      nb          block descriptors, one byte per block:
//	                    bits 0-5 w (0 to 32), bits 6-7 extension class c,
//	                    k = 0, 1, 2, 4 bytes for c = 0, 1, 2, 3
//	48+nb   ceil(nb/4)  exception kinds, two bits per block, block b in
//	                    bits 2(b%4) and 2(b%4)+1 of byte b/4:
//	                    0 no exception, 1 every value of the block is a fill
//	                    exception, 2 mixed (the block has a mask record),
//	                    3 invalid; unused high bits of the last byte are 0
//	...     0 to 7      zero padding up to a multiple of 8
//	...     8m          mask records of the mixed blocks in block order:
//	                    uint32 fill mask, then uint32 verbatim mask; bit i
//	                    marks slot i; the masks are disjoint, not both 0,
//	                    and have no bit at or past the block's value count
//	...     v*size      verbatim values in C order, raw dtype bits
//	...     B           block bodies in block order, 4w+k bytes each: k
//	                    bytes of e, then 32 slots of w bits as one
//	                    little-endian bit string, slot i in bits
//	                    [i*w, (i+1)*w); the payload ends after the last body
//
// The decoder computes q[0] = unzigzag(e << w | slot 0) and
// q[i] = q[i-1] + unzigzag(slot i) in wrapping int32 arithmetic, writes
// T(float64(q)*twoEB) for each value, then fill or the next verbatim value
// over every exception. Mask records start at a multiple of 8 bytes, so a
// GPU can load them as aligned words; the body offsets come from a prefix
// sum over 4w+k, the mask offsets from a prefix count of mixed blocks and
// the verbatim offsets from a prefix sum of verbatim mask popcounts.
//
// The payload has no entropy-coding stage. On cesm_lens_TS at rel 1e-4, zstd
// after the payload raised the ratio from 3.82 to 4.00 (the ratio_with_zstd
// metric of BenchmarkBlockEncode), too little for its cost on a GPU.

//go:generate go run ./internal/blockgen

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"unsafe"
)

// Block is the cuSZp-style codec: prequantization, 1-D Lorenzo inside
// independent blocks of 32 values, and fixed-length bit packing per block.
var Block Codec = blockCodec{}

func init() { Register(Block) }

const (
	blockVersion   = 1
	blockLen       = 32
	blockHeaderLen = 48
	blockMaxQuant  = 1<<30 - 1

	blockExcNone  = 0
	blockExcFill  = 1
	blockExcMixed = 2
)

// blockExtBytes maps the extension class (descriptor bits 6-7) to the size of
// the extension field.
var blockExtBytes = [4]int{0, 1, 2, 4}

type blockCodec struct{}

func (blockCodec) ID() ID       { return IDBlock }
func (blockCodec) Name() string { return "block" }

// blockScratch holds the sections of one encode call.
type blockScratch struct {
	desc   []byte
	kinds  []byte
	masks  []byte
	verb   []byte
	bodies []byte
	// z holds the residuals of one block. It lives here because the packer
	// table makes a local array escape to the heap.
	z [blockLen]uint32
}

var blockPool = sync.Pool{New: func() any { return new(blockScratch) }}

func (blockCodec) AppendEncode(dst, src []byte, p Params) ([]byte, error) {
	if !p.DType.IsFloat() {
		return dst, fmt.Errorf("block: dtype %s: %w", p.DType, ErrUnsupported)
	}
	if !(p.Bound > 0) || math.IsInf(p.Bound, 0) {
		return dst, fmt.Errorf("block: bound %v must be finite and greater than 0: %w", p.Bound, ErrUnsupported)
	}
	n := p.Count()
	if n < 1 || n*p.DType.Size() != len(src) {
		return dst, fmt.Errorf("block: chunk shape %v of %s needs %d bytes, got %d", p.Shape, p.DType, n*p.DType.Size(), len(src))
	}
	nb := (n + blockLen - 1) / blockLen
	s := blockPool.Get().(*blockScratch)
	defer blockPool.Put(s)
	s.prepare(nb, n*p.DType.Size())

	var nverb int
	if p.DType == Float32 {
		nverb = blockEncode(viewAs[float32](src), s, p.Bound, p.HasFill, float32(p.Fill))
	} else {
		nverb = blockEncode(viewAs[float64](src), s, p.Bound, p.HasFill, p.Fill)
	}

	var hdr [blockHeaderLen]byte
	hdr[0], hdr[1], hdr[2] = blockVersion, byte(p.DType), blockLen
	binary.LittleEndian.PutUint64(hdr[8:], math.Float64bits(p.Bound))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(n))
	binary.LittleEndian.PutUint64(hdr[24:], uint64(len(s.masks)/8))
	binary.LittleEndian.PutUint64(hdr[32:], uint64(nverb))
	binary.LittleEndian.PutUint64(hdr[40:], uint64(len(s.bodies)))

	dst = append(dst, hdr[:]...)
	dst = append(dst, s.desc...)
	dst = append(dst, s.kinds...)
	dst = append(dst, make([]byte, blockPad(nb))...)
	dst = append(dst, s.masks...)
	dst = append(dst, s.verb...)
	return append(dst, s.bodies...), nil
}

// blockPad returns the number of zero bytes after the kinds section.
func blockPad(nb int) int {
	end := blockHeaderLen + nb + (nb+3)/4
	return (8 - end%8) % 8
}

// prepare empties the sections and sizes them for nb blocks of raw bytes.
func (s *blockScratch) prepare(nb, raw int) {
	if cap(s.desc) < nb {
		s.desc = make([]byte, 0, nb)
	}
	if cap(s.kinds) < (nb+3)/4 {
		s.kinds = make([]byte, 0, (nb+3)/4)
	}
	// A body takes at most 4*32+4 bytes, 132 per block.
	if cap(s.bodies) < 132*nb+8 {
		s.bodies = make([]byte, 0, 132*nb+8)
	}
	s.desc = s.desc[:nb]
	s.kinds = s.kinds[:(nb+3)/4]
	clear(s.kinds)
	s.masks = s.masks[:0]
	s.verb = s.verb[:0]
	s.bodies = s.bodies[:0]
}

// zigzag maps d to 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...
func zigzag(d int32) uint32 { return uint32((d << 1) ^ (d >> 31)) }

// unzigzag inverts zigzag.
func unzigzag(z uint32) int32 { return int32(z>>1) ^ -int32(z&1) }

// blockEncode quantizes src block by block and fills the sections of s. It
// returns the number of verbatim values. The arithmetic must stay as the
// format comment at the top of this file states it, because a GPU encoder
// writes the same bytes.
func blockEncode[T float](src []T, s *blockScratch, eb float64, hasFill bool, fill T) int {
	twoEB := float64(2 * eb)
	inv := float64(1 / twoEB)
	fillBits := floatBits(fill)
	nverb := 0
	bodies := s.bodies

	var q [blockLen]int32
	for b := range s.desc {
		vals := src[b*blockLen : min(b*blockLen+blockLen, len(src))]
		var excMask uint32
		if len(vals) == blockLen {
			excMask = blockQuantize((*[blockLen]T)(vals), &q, inv, twoEB, eb)
		} else {
			var tail [blockLen]T
			copy(tail[:], vals)
			excMask = blockQuantize(&tail, &q, inv, twoEB, eb) & (1<<uint(len(vals)) - 1)
		}
		if hasFill {
			for i, xv := range vals {
				if xv == fill {
					excMask |= 1 << uint(i)
				}
			}
		}
		cnt := len(vals)

		if excMask != 0 || cnt < blockLen {
			nverb += blockExceptions(vals, &q, excMask, s, b, hasFill, fill, fillBits)
		}

		// Residuals: slot 0 holds z[0] and slots 1..31 the zigzag differences.
		z := &s.z
		z[0] = zigzag(q[0])
		var or uint32
		for i := 1; i < blockLen; i++ {
			zi := zigzag(q[i] - q[i-1])
			z[i] = zi
			or |= zi
		}
		w := uint(bits.Len32(or))
		ext := uint32(uint64(z[0]) >> w)
		class := blockExtClass(ext)
		s.desc[b] = byte(w) | byte(class)<<6
		for k := 0; k < blockExtBytes[class]; k++ {
			bodies = append(bodies, byte(ext>>(8*k)))
		}
		if w > 0 {
			z[0] &= uint32(uint64(1)<<w - 1)
			bodies = blockPack(bodies, z, w)
		}
	}
	s.bodies = bodies
	return nverb
}

// blockQuantize sets q to the quantized values of x and returns a mask of the
// values that fail the range or error check. q of a failing value is
// undefined.
func blockQuantize[T float](x *[blockLen]T, q *[blockLen]int32, inv, twoEB, eb float64) uint32 {
	var exc uint32
	for i := range blockLen {
		v := float64(x[i])
		// Adding and subtracting roundMagic rounds to an integer for
		// magnitudes below 2^51; larger quotients fail the range check,
		// and NaN or infinite ones the error check.
		qf := float64(float64(v*inv)+roundMagic) - roundMagic
		rt := float64(T(float64(qf * twoEB)))
		q[i] = int32(qf)
		d := v - rt
		if !(d <= eb && -d <= eb && qf <= blockMaxQuant && qf >= -blockMaxQuant) {
			exc |= 1 << uint(i)
		}
	}
	return exc
}

// blockExtClass returns the extension class of the smallest field that holds
// ext.
func blockExtClass(ext uint32) int {
	switch {
	case ext == 0:
		return 0
	case ext <= 0xff:
		return 1
	case ext <= 0xffff:
		return 2
	default:
		return 3
	}
}

// blockExceptions records the exceptions of block b (the set bits of
// excMask) in s, replaces their q and the q of padding slots by the
// placeholder the format defines, and returns the number of verbatim
// values it appended.
func blockExceptions[T float](vals []T, q *[blockLen]int32, excMask uint32, s *blockScratch, b int, hasFill bool, fill T, fillBits uint64) int {
	cnt := len(vals)
	valid := uint32(uint64(1)<<uint(cnt) - 1)
	// Placeholders: the first non-exception q before any, then the
	// nearest preceding one.
	prev := int32(0)
	if good := valid &^ excMask; good != 0 {
		prev = q[bits.TrailingZeros32(good)]
	}
	for i := range blockLen {
		if i >= cnt || excMask&(1<<uint(i)) != 0 {
			q[i] = prev
		} else {
			prev = q[i]
		}
	}
	if excMask == 0 {
		return 0
	}

	var fillMask, verbMask uint32
	for m := excMask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		xv := vals[i]
		if hasFill && xv == fill && floatBits(xv) == fillBits {
			fillMask |= 1 << uint(i)
		} else {
			verbMask |= 1 << uint(i)
			s.verb = appendRaw(s.verb, xv)
		}
	}
	kind := byte(blockExcMixed)
	if fillMask == valid {
		kind = blockExcFill
	} else {
		s.masks = binary.LittleEndian.AppendUint32(s.masks, fillMask)
		s.masks = binary.LittleEndian.AppendUint32(s.masks, verbMask)
	}
	s.kinds[b/4] |= kind << (2 * uint(b%4))
	return bits.OnesCount32(verbMask)
}

// blockPack appends the 32 values of z as a bit string of w bits each, 4w
// bytes in all. Every value must be below 2^w.
func blockPack(dst []byte, z *[blockLen]uint32, w uint) []byte {
	start := len(dst)
	dst = slices.Grow(dst, 4*int(w))[:start+4*int(w)]
	blockPackers[w](dst[start:], z)
	return dst
}

// blockLayout is a parsed and checked payload: the sections as slices.
type blockLayout struct {
	n, nb  int
	desc   []byte
	kinds  []byte
	masks  []byte
	verb   []byte
	bodies []byte
}

func (blockCodec) Decode(dst, payload []byte, p Params) error {
	if !p.DType.IsFloat() {
		return corruptf("block payload for dtype %s, expected f32 or f64", p.DType)
	}
	if !(p.Bound > 0) || math.IsInf(p.Bound, 0) {
		return corruptf("block payload with bound %v, expected a finite bound greater than 0", p.Bound)
	}
	size := p.DType.Size()
	n := p.Count()
	if n < 1 || n*size != len(dst) {
		return fmt.Errorf("block: destination has %d bytes, chunk shape %v of %s needs %d", len(dst), p.Shape, p.DType, n*size)
	}
	l, err := parseBlockPayload(payload, p, n)
	if err != nil {
		return err
	}
	if p.DType == Float32 {
		return blockDecode(viewAs[float32](dst), &l, p.Bound, p.HasFill, float32(p.Fill))
	}
	return blockDecode(viewAs[float64](dst), &l, p.Bound, p.HasFill, p.Fill)
}

// parseBlockPayload checks the header and the section sizes of payload and
// cuts it into sections. It checks every descriptor, so the bodies section
// has exactly the bytes the descriptors need.
func parseBlockPayload(payload []byte, p Params, n int) (blockLayout, error) {
	var l blockLayout
	if len(payload) < blockHeaderLen {
		return l, corruptf("block payload of %d bytes is shorter than its %d-byte header", len(payload), blockHeaderLen)
	}
	if payload[0] != blockVersion {
		return l, corruptf("block payload version %d, this build reads version %d", payload[0], blockVersion)
	}
	if DType(payload[1]) != p.DType {
		return l, corruptf("block payload holds dtype %s, the header says %s", DType(payload[1]), p.DType)
	}
	if payload[2] != blockLen {
		return l, corruptf("block payload has blocks of %d values, this build reads %d", payload[2], blockLen)
	}
	for _, r := range payload[3:8] {
		if r != 0 {
			return l, corruptf("block payload has non-zero reserved bytes %x", payload[3:8])
		}
	}
	if eb := math.Float64frombits(binary.LittleEndian.Uint64(payload[8:])); eb != p.Bound {
		return l, corruptf("block payload bound %v differs from the header bound %v", eb, p.Bound)
	}
	if count := binary.LittleEndian.Uint64(payload[16:]); count != uint64(n) {
		return l, corruptf("block value count %d does not match shape %v", count, p.Shape)
	}
	l.n = n
	l.nb = (n + blockLen - 1) / blockLen
	m := binary.LittleEndian.Uint64(payload[24:])
	v := binary.LittleEndian.Uint64(payload[32:])
	bodyLen := binary.LittleEndian.Uint64(payload[40:])
	if m > uint64(l.nb) || v > uint64(n) || bodyLen > uint64(l.nb)*132 {
		return l, corruptf("block section sizes m=%d v=%d B=%d are invalid for %d values", m, v, bodyLen, n)
	}
	size := p.DType.Size()
	off := blockHeaderLen
	fixed := l.nb + (l.nb+3)/4 + blockPad(l.nb)
	want := uint64(off+fixed) + 8*m + uint64(size)*v + bodyLen
	if uint64(len(payload)) != want {
		return l, corruptf("block payload has %d bytes, its header needs %d", len(payload), want)
	}
	l.desc = payload[off : off+l.nb]
	off += l.nb
	l.kinds = payload[off : off+(l.nb+3)/4]
	off += (l.nb + 3) / 4
	for _, b := range payload[off : off+blockPad(l.nb)] {
		if b != 0 {
			return l, corruptf("block payload has non-zero padding")
		}
	}
	off += blockPad(l.nb)
	l.masks = payload[off : off+int(8*m)]
	off += int(8 * m)
	l.verb = payload[off : off+size*int(v)]
	off += size * int(v)
	l.bodies = payload[off:]

	total := 0
	for b, d := range l.desc {
		w := int(d & 63)
		if w > 32 {
			return l, corruptf("block %d has bit width %d, at most 32 allowed", b, w)
		}
		total += 4*w + blockExtBytes[d>>6]
	}
	if total != len(l.bodies) {
		return l, corruptf("block descriptors need %d body bytes, the payload has %d", total, len(l.bodies))
	}
	mixed := 0
	for b := range l.nb {
		switch (l.kinds[b/4] >> (2 * uint(b%4))) & 3 {
		case blockExcMixed:
			mixed++
		case 3:
			return l, corruptf("block %d has invalid exception kind 3", b)
		}
	}
	if tail := l.nb % 4; tail != 0 && l.kinds[len(l.kinds)-1]>>(2*uint(tail)) != 0 {
		return l, corruptf("block exception kinds have non-zero bits past the last block")
	}
	if uint64(mixed) != m {
		return l, corruptf("block payload has %d mixed exception blocks, its header says %d", mixed, m)
	}
	return l, nil
}

// blockDecode reconstructs dst from the checked sections of l.
func blockDecode[T float](dst []T, l *blockLayout, eb float64, hasFill bool, fill T) error {
	twoEB := float64(2 * eb)
	bodies := l.bodies
	size := int(unsafe.Sizeof(fill))
	nverb := len(l.verb) / size
	off, mi, vi := 0, 0, 0
	var tail [blockLen]T
	var pad [4*blockLen + 4 + 8]byte

	for b, d := range l.desc {
		w := uint(d & 63)
		k := blockExtBytes[d>>6]
		bodyLen := k + 4*int(w)
		// body runs to the end of the bodies section, so that blockUnpack
		// can load 8 bytes at a time.
		body := bodies[off:]
		off += bodyLen

		out := tail[:]
		full := b*blockLen+blockLen <= len(dst)
		if full {
			out = dst[b*blockLen : b*blockLen+blockLen]
		}

		var ext uint32
		for i := range k {
			ext |= uint32(body[i]) << (8 * uint(i))
		}
		packed := body[k:]
		if w == 0 {
			r := T(float64(float64(unzigzag(ext)) * twoEB))
			for i := range out {
				out[i] = r
			}
		} else {
			if uint64(ext)<<w > math.MaxUint32 {
				return corruptf("block %d: first residual exceeds 32 bits", b)
			}
			if len(bodies)-off < 8 {
				// blockUnpack reads 8 bytes past a value's first byte.
				copy(pad[:], packed)
				packed = pad[:]
			}
			blockUnpack((*[blockLen]T)(out), packed, w, ext, twoEB)
		}
		if !full {
			copy(dst[b*blockLen:], tail[:len(dst)-b*blockLen])
			out = dst[b*blockLen:]
		}

		kind := (l.kinds[b/4] >> (2 * uint(b%4))) & 3
		switch kind {
		case blockExcNone:
			continue
		case blockExcFill:
			if !hasFill {
				return corruptf("block %d is marked as fill in a chunk without a fill value", b)
			}
			for i := range out {
				out[i] = fill
			}
			continue
		}
		fillMask := binary.LittleEndian.Uint32(l.masks[8*mi:])
		verbMask := binary.LittleEndian.Uint32(l.masks[8*mi+4:])
		mi++
		valid := uint32(uint64(1)<<uint(len(out)) - 1)
		if fillMask&verbMask != 0 || (fillMask|verbMask)&^valid != 0 || fillMask|verbMask == 0 {
			return corruptf("block %d has invalid exception masks %#x and %#x", b, fillMask, verbMask)
		}
		if fillMask != 0 && !hasFill {
			return corruptf("block %d has fill exceptions in a chunk without a fill value", b)
		}
		if vi+bits.OnesCount32(verbMask) > nverb {
			return corruptf("block %d needs more than the %d verbatim values", b, nverb)
		}
		for mask := fillMask; mask != 0; mask &= mask - 1 {
			out[bits.TrailingZeros32(mask)] = fill
		}
		for mask := verbMask; mask != 0; mask &= mask - 1 {
			out[bits.TrailingZeros32(mask)] = loadRaw[T](l.verb, vi)
			vi++
		}
	}
	if vi != nverb {
		return corruptf("block payload has %d verbatim values, the masks use %d", nverb, vi)
	}
	return nil
}

// blockUnpack decodes 32 slots of w bits (1 to 32) from packed, which must
// have 8 readable bytes past the byte where the last slot starts, and
// writes the reconstructed values to out. ext is the extension of slot 0.
func blockUnpack[T float](out *[blockLen]T, packed []byte, w uint, ext uint32, twoEB float64) {
	mask := uint64(1)<<w - 1
	_ = packed[(31*w)/8+7]
	z0 := uint32(binary.LittleEndian.Uint64(packed)&mask) | ext<<w
	q := unzigzag(z0)
	out[0] = T(float64(float64(q) * twoEB))
	pos := w
	for i := 1; i < blockLen; i++ {
		z := uint32((binary.LittleEndian.Uint64(packed[pos>>3:]) >> (pos & 7)) & mask)
		q += unzigzag(z)
		out[i] = T(float64(float64(q) * twoEB))
		pos += w
	}
}
