package codecs

import (
	"encoding/binary"
	"errors"
	"math"
)

// Mapped payloads. The point-wise relative transform (TransformPWRel) and
// the temporal residual transform (TransformDelta) share one payload layout:
// each finite, non-zero, non-fill value x is mapped to a float64 m = f(x),
// the chunk of mapped values is encoded by the codec the header names under
// an absolute bound E, and the decoder rebuilds x' = g(m'). The encoder
// decodes the mapped values again, checks every x' against the bound of x
// in float64 and stores any value that misses it verbatim.
//
//	TransformPWRel  f(x) = log2|x|,   g(m) = ±2^m (sign from the class map)
//	TransformDelta  f(x) = x - ref,   g(m) = ref + m (ref: the reference chunk)
//
// Byte layout of the payload:
//
//	8 bytes   E, float64 little-endian, finite and > 0
//	section   class map: one byte per value, in C order
//	section   verbatim values: the raw bits of every class-5 value, in C order
//	rest      the mapped chunk: float64 values, the chunk's shape, encoded by
//	          the header's codec with bound E and no fill value
//
// A section is a uvarint with the byte length of what follows, then a
// uvarint with the decoded length and a zstd frame. Classes:
//
//	0  mapped, x' = g(m')
//	1  mapped and negative, x' = -2^m' (TransformPWRel only)
//	2  +0, exact
//	3  -0, exact
//	4  the fill value, exact (only when the header has one)
//	5  verbatim: NaN, ±Inf, values whose map is not finite, and values
//	   that missed their bound
//
// Positions that are not mapped contain the last mapped value before them in
// C order (0 before the first), so the inner codec predicts a smooth signal
// across zeros and fill regions. The decoder ignores these positions.
const (
	classMapped    = 0
	classMappedNeg = 1
	classPosZero   = 2
	classNegZero   = 3
	classFill      = 4
	classVerbatim  = 5
)

// valueMap is the forward and inverse map of a mapped payload.
type valueMap interface {
	// forward returns m = f(x) for the finite, non-zero value x at index i,
	// and whether x is negative in the sense of classMappedNeg.
	forward(i int, x float64) (m float64, neg bool)
	// inverse returns g(m) in float64 for the value at index i.
	inverse(i int, m float64, neg bool) float64
	// allowed returns the largest |x - x'| accepted for x.
	allowed(x float64) float64
	// hasNeg reports whether classMappedNeg is valid.
	hasNeg() bool
}

// pwrelMap is log2|x| with the sign kept in the class map.
type pwrelMap struct{ rel float64 }

func (pwrelMap) forward(_ int, x float64) (float64, bool) { return math.Log2(math.Abs(x)), x < 0 }
func (pwrelMap) inverse(_ int, m float64, neg bool) float64 {
	v := math.Exp2(m)
	if neg {
		return -v
	}
	return v
}
func (w pwrelMap) allowed(x float64) float64 { return w.rel * math.Abs(x) }
func (pwrelMap) hasNeg() bool                { return true }

// deltaMap is the residual against a reference chunk of the same dtype.
type deltaMap struct {
	ref   []byte
	dtype DType
	eb    float64
}

func (d deltaMap) forward(i int, x float64) (float64, bool) {
	return x - loadValue(d.ref, d.dtype, i), false
}
func (d deltaMap) inverse(i int, m float64, _ bool) float64 { return loadValue(d.ref, d.dtype, i) + m }
func (d deltaMap) allowed(float64) float64                  { return d.eb }
func (deltaMap) hasNeg() bool                               { return false }

// machineEpsilon returns the relative spacing 2^-(mantissa bits) of dt.
func machineEpsilon(dt DType) float64 {
	if dt == Float32 {
		return 0x1p-23
	}
	return 0x1p-52
}

// ulpOf returns the spacing of dt values at |x|.
func ulpOf(dt DType, x float64) float64 {
	a := math.Abs(x)
	if dt == Float32 {
		f := float32(a)
		return float64(math.Nextafter32(f, float32(math.Inf(1))) - f)
	}
	return math.Nextafter(a, math.Inf(1)) - a
}

// checkMargin returns the slack the encoder keeps below each value's bound.
// It covers the few ulps by which another platform may round g(m') and the
// inner codec's reconstruction differently, because Go may fuse a multiply
// and an add on some architectures. A value accepted here is then within
// its bound wherever it is decoded.
func checkMargin(dt DType, x float64) float64 {
	return 2*ulpOf(dt, x) + 0x1p-40*math.Abs(x)
}

func loadValue(b []byte, dt DType, i int) float64 {
	if dt == Float32 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
}

func loadBits(b []byte, dt DType, i int) uint64 {
	if dt == Float32 {
		return uint64(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return binary.LittleEndian.Uint64(b[8*i:])
}

func storeBits(b []byte, dt DType, i int, bits uint64) {
	if dt == Float32 {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(bits))
		return
	}
	binary.LittleEndian.PutUint64(b[8*i:], bits)
}

// toBits converts v to dt and returns its bits.
func toBits(dt DType, v float64) uint64 {
	if dt == Float32 {
		return uint64(math.Float32bits(float32(v)))
	}
	return math.Float64bits(v)
}

// fillBits returns the bits of the fill value converted to dt.
func fillBits(p Params) uint64 { return toBits(p.DType, p.Fill) }

// pwrelInnerBound returns the bound E on log2|x| for the relative bound rel,
// kept below log2(1+rel) by the rounding of x' to the dtype and the
// encoder's margin. It returns 0 when rel is too small for the dtype, and
// the chunk is then stored losslessly.
func pwrelInnerBound(dt DType, rel float64) float64 {
	usable := rel - 3*machineEpsilon(dt) - 0x1p-39
	if !(usable > 0) {
		return 0
	}
	return math.Log1p(usable) / math.Ln2
}

// appendMapped appends a mapped payload for src to dst, with c encoding the
// mapped values under bound eb. It writes the values the payload decodes to
// into recon. It returns the codec that encoded the mapped values, or
// ErrUnsupported when that codec does not take them.
func appendMapped(dst []byte, c Codec, src []byte, p Params, m valueMap, eb float64, recon []byte) (Codec, []byte, error) {
	n := p.Count()
	dt := p.DType
	classes := make([]byte, n)
	mappedBuf := getBytes(8 * n)
	defer putBytes(mappedBuf)
	mapped := viewAs[float64](*mappedBuf)
	fill := fillBits(p)

	carry := 0.0
	for i := range n {
		bits := loadBits(src, dt, i)
		x := loadValue(src, dt, i)
		switch {
		case p.HasFill && bits == fill:
			classes[i] = classFill
		case x-x != 0:
			classes[i] = classVerbatim
		case x == 0 && math.Signbit(x):
			classes[i] = classNegZero
		case x == 0:
			classes[i] = classPosZero
		default:
			v, neg := m.forward(i, x)
			if v-v != 0 {
				classes[i] = classVerbatim
				break
			}
			if neg {
				classes[i] = classMappedNeg
			}
			carry = v
		}
		mapped[i] = carry
	}

	inner := Params{DType: Float64, Shape: p.Shape, Bound: eb}
	if sel, ok := c.(Selector); ok {
		c = sel.Select(*mappedBuf, inner)
	}
	payload, err := c.AppendEncode(nil, *mappedBuf, inner)
	if err != nil {
		return c, dst, err
	}
	decodedBuf := getBytes(8 * n)
	defer putBytes(decodedBuf)
	if err := c.Decode(*decodedBuf, payload, inner); err != nil {
		return c, dst, err
	}
	decoded := viewAs[float64](*decodedBuf)

	var verbatim []byte
	for i := range n {
		cls := classes[i]
		if cls == classMapped || cls == classMappedNeg {
			x := loadValue(src, dt, i)
			bits := toBits(dt, m.inverse(i, decoded[i], cls == classMappedNeg))
			y := fromBits(dt, bits)
			if math.Abs(x-y)+checkMargin(dt, x) <= m.allowed(x) {
				storeBits(recon, dt, i, bits)
				continue
			}
			classes[i] = classVerbatim
		}
		if classes[i] == classVerbatim {
			verbatim = append(verbatim, src[i*dt.Size():(i+1)*dt.Size()]...)
		}
		storeBits(recon, dt, i, loadBits(src, dt, i))
	}

	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(eb))
	dst = appendSection(dst, classes)
	dst = appendSection(dst, verbatim)
	return c, append(dst, payload...), nil
}

// fromBits returns the dt value with the given bits, in float64.
func fromBits(dt DType, bits uint64) float64 {
	if dt == Float32 {
		return float64(math.Float32frombits(uint32(bits)))
	}
	return math.Float64frombits(bits)
}

// appendSection appends the byte length of a zstd section of raw, then the
// section.
func appendSection(dst, raw []byte) []byte {
	sec := appendZstd(nil, raw)
	dst = binary.AppendUvarint(dst, uint64(len(sec)))
	return append(dst, sec...)
}

// readSection reads a section written by appendSection from the start of
// src, decoding at most maxLen bytes, and returns the decoded bytes and the
// rest of src.
func readSection(src []byte, maxLen int) ([]byte, []byte, error) {
	n, k := binary.Uvarint(src)
	if k <= 0 || n > uint64(len(src)-k) {
		return nil, nil, corruptf("mapped payload: bad section length")
	}
	sec := src[k : k+int(n)]
	out, _, err := readZstd(nil, sec, maxLen)
	if err != nil {
		return nil, nil, err
	}
	return out, src[k+int(n):], nil
}

// decodeMapped decodes a mapped payload into dst, with inner the codec the
// header names.
func decodeMapped(dst, payload []byte, p Params, inner Codec, m valueMap) error {
	n := p.Count()
	dt := p.DType
	if len(payload) < 8 {
		return corruptf("mapped payload of %d bytes is shorter than its 8-byte bound", len(payload))
	}
	eb := math.Float64frombits(binary.LittleEndian.Uint64(payload))
	if !(eb > 0) || math.IsInf(eb, 0) {
		return corruptf("mapped payload: invalid inner bound %v", eb)
	}
	classes, rest, err := readSection(payload[8:], n)
	if err != nil {
		return err
	}
	if len(classes) != n {
		return corruptf("mapped payload: class map has %d entries, the chunk has %d values", len(classes), n)
	}
	verbatim, rest, err := readSection(rest, n*dt.Size())
	if err != nil {
		return err
	}
	want := 0
	for _, cls := range classes {
		switch {
		case cls == classVerbatim:
			want++
		case cls > classVerbatim, cls == classMappedNeg && !m.hasNeg(), cls == classFill && !p.HasFill:
			return corruptf("mapped payload: invalid class %d", cls)
		}
	}
	if len(verbatim) != want*dt.Size() {
		return corruptf("mapped payload: %d verbatim bytes for %d verbatim values of %d bytes", len(verbatim), want, dt.Size())
	}

	decodedBuf := getBytes(8 * n)
	defer putBytes(decodedBuf)
	innerParams := Params{DType: Float64, Shape: p.Shape, Bound: eb}
	if err := inner.Decode(*decodedBuf, rest, innerParams); err != nil {
		if !errors.Is(err, ErrCorrupt) {
			err = corruptf("%s payload of mapped values: %v", inner.Name(), err)
		}
		return err
	}
	decoded := viewAs[float64](*decodedBuf)
	fill := fillBits(p)
	size := dt.Size()
	for i, cls := range classes {
		var bits uint64
		switch cls {
		case classMapped, classMappedNeg:
			bits = toBits(dt, m.inverse(i, decoded[i], cls == classMappedNeg))
		case classPosZero:
			bits = 0
		case classNegZero:
			bits = toBits(dt, math.Copysign(0, -1))
		case classFill:
			bits = fill
		case classVerbatim:
			bits = loadBits(verbatim, dt, 0)
			verbatim = verbatim[size:]
		}
		storeBits(dst, dt, i, bits)
	}
	return nil
}
