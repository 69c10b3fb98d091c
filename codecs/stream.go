package codecs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Stream layout. Every chunk is stored as one stream: a header, then the
// payload of the codec the header names. Integers are little-endian.
//
//	offset  size  field
//	0       4     magic "EPSC"
//	4       1     format version (1)
//	5       1     codec ID
//	6       1     dtype
//	7       1     ndim, 1 to MaxDims
//	8       1     error mode of the user's bound
//	9       1     flags: bit 0 = the chunk has a fill value; others 0
//	10      1     transform: 0 none, 1 point-wise relative, 2 temporal
//	              residual (see Transform); streams written before transforms
//	              existed have 0 here
//	11      1     reserved, 0
//	12      8     user's bound value, float64
//	20      8     bound applied to the chunk, float64 (see Header.AbsBound)
//	28      8     fill value, float64 (0 without one)
//	36      8     value count, the product of the shape
//	44      4*nd  shape, uint32 per dimension, slowest first
//	        4     payload length
//	        4     CRC-32C over the header before this field and the payload
//
// With transform 0 the payload is the codec's own. With transform 1 or 2 it
// is a mapped payload (see pwrel.go) whose inner chunk the codec encoded.
// Readers older than transforms reject a stream with a non-zero transform
// byte as corrupt rather than misread it.
const (
	// FormatVersion is the stream format version this package writes.
	FormatVersion = 1
	// MaxDims is the largest number of dimensions a chunk may have.
	MaxDims = 8
	// MaxChunkBytes is the largest raw size of one chunk.
	MaxChunkBytes = 1 << 30

	fixedHeaderLen = 44
	flagHasFill    = 1 << 0
)

// Transform is the mapping from a stream's payload to the chunk's values.
type Transform uint8

const (
	// TransformNone: the payload is the codec's encoding of the values.
	TransformNone Transform = 0
	// TransformPWRel: the codec encoded log2|x| under a bound derived
	// from the point-wise relative bound in Header.AbsBound; signs, zeros,
	// fill values and misses are kept exactly beside it.
	TransformPWRel Transform = 1
	// TransformDelta: the codec encoded the residual x - ref against a
	// reference chunk, the reconstruction of the previous timestep. Such a
	// stream decodes only with DecodeDelta and that reference.
	TransformDelta Transform = 2
)

// ErrNeedsReference is returned by Decode for a temporal residual stream
// (TransformDelta), which DecodeDelta decodes given its reference chunk.
var ErrNeedsReference = errors.New("chunk stream is a temporal residual and needs its reference chunk")

var magic = [4]byte{'E', 'P', 'S', 'C'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is the decoded stream header of one chunk.
type Header struct {
	Version uint8
	Codec   ID
	DType   DType
	// Bound is the error bound as the user stated it for the array.
	Bound Bound
	// AbsBound is the absolute bound the codec applied to this chunk; 0
	// means the chunk is lossless. For TransformPWRel it is the point-wise
	// relative bound instead: |x - x'| <= AbsBound * |x|.
	AbsBound float64
	// Transform is the mapping from the payload to the values.
	Transform Transform
	HasFill   bool
	Fill      float64
	Shape     []int
	// PayloadLen is the payload size in bytes.
	PayloadLen int
}

// Params returns the codec parameters the header describes.
func (h *Header) Params() Params {
	return Params{DType: h.DType, Shape: h.Shape, Bound: h.AbsBound, HasFill: h.HasFill, Fill: h.Fill}
}

// HeaderLen returns the header size in bytes of a stream with ndim dimensions.
func HeaderLen(ndim int) int { return fixedHeaderLen + 4*ndim + 8 }

// Encode encodes src (the raw values of one chunk) with codec c and appends the
// stream to dst. b is recorded in the header as the user's bound; p.Bound is
// the absolute bound applied, or for b.Mode == ModePWRel the point-wise
// relative bound, which must be less than 1.
//
// The chunk is stored losslessly instead when p.Bound is 0, when c returns
// ErrUnsupported (integer dtypes, for example), or when the lossy payload is
// not smaller than the raw values. The header names the codec actually used.
func Encode(dst []byte, c Codec, b Bound, p Params, src []byte) ([]byte, error) {
	return encode(dst, c, b, p, src, nil, nil)
}

// EncodeDelta is Encode for a chunk that follows the reference chunk ref
// (the reconstruction of the previous timestep, with the same params): the
// codec encodes the residual src - ref, so that the values decode to within
// p.Bound of src. It writes the values the stream decodes to into recon,
// which has len(src) bytes, for use as the next chunk's reference. The
// stream falls back to a plain one (TransformNone) where the residual does
// not apply: a lossless chunk, a point-wise relative bound, or a residual
// that does not compress better.
func EncodeDelta(dst []byte, c Codec, b Bound, p Params, src, ref, recon []byte) ([]byte, error) {
	if len(ref) != len(src) || len(recon) != len(src) {
		return dst, fmt.Errorf("codecs: reference of %d bytes and reconstruction of %d bytes for a chunk of %d bytes", len(ref), len(recon), len(src))
	}
	return encode(dst, c, b, p, src, ref, recon)
}

// encode is Encode, with the residual against ref when ref is not nil, and
// writing the decoded values into recon when recon is not nil.
func encode(dst []byte, c Codec, b Bound, p Params, src, ref, recon []byte) ([]byte, error) {
	if err := checkParams(p, len(src)); err != nil {
		return dst, err
	}
	if b.Mode == ModePWRel && p.Bound >= 1 {
		return dst, fmt.Errorf("codecs: invalid point-wise relative bound %v: must be less than 1", p.Bound)
	}
	start := len(dst)
	hlen := HeaderLen(len(p.Shape))
	dst = append(dst, make([]byte, hlen)...)

	used := c
	transform := TransformNone
	var err error
	mappedRecon := recon
	switch {
	case p.Bound == 0 || c.ID() == IDLossless:
		used, p.Bound = Lossless, 0
		dst, err = Lossless.AppendEncode(dst, src, p)
	case b.Mode == ModePWRel && p.DType.IsFloat():
		transform = TransformPWRel
		eb := pwrelInnerBound(p.DType, p.Bound)
		if eb == 0 {
			err = ErrUnsupported
			break
		}
		if mappedRecon == nil {
			buf := getBytes(len(src))
			defer putBytes(buf)
			mappedRecon = *buf
		}
		used, dst, err = appendMapped(dst, c, src, p, pwrelMap{rel: p.Bound}, eb, mappedRecon)
	case ref != nil && p.DType.IsFloat():
		transform = TransformDelta
		eb := deltaInnerBound(p.DType, src, p.Bound)
		if eb == 0 {
			err = ErrUnsupported
			break
		}
		used, dst, err = appendMapped(dst, c, src, p, deltaMap{ref: ref, dtype: p.DType, eb: p.Bound}, eb, recon)
	default:
		if sel, ok := c.(Selector); ok {
			c = sel.Select(src, p)
		}
		used = c
		if c.ID() == IDLossless {
			p.Bound = 0
		}
		dst, err = c.AppendEncode(dst, src, p)
	}
	if errors.Is(err, ErrUnsupported) || (err == nil && len(dst)-start-hlen >= len(src)) {
		// The lossy payload is no smaller than the raw values, so a
		// lossless payload is at least as small and exact.
		dst = dst[:start+hlen]
		used, p.Bound, transform = Lossless, 0, TransformNone
		dst, err = Lossless.AppendEncode(dst, src, p)
	}
	if err != nil {
		return dst[:start], err
	}
	payloadLen := len(dst) - start - hlen
	if payloadLen > math.MaxUint32 {
		return dst[:start], fmt.Errorf("codecs: payload of %d bytes exceeds the 4 GiB stream limit", payloadLen)
	}
	if recon != nil && transform == TransformNone {
		if used.ID() == IDLossless {
			copy(recon, src)
		} else if err := used.Decode(recon, dst[start+hlen:], p); err != nil {
			return dst[:start], fmt.Errorf("codecs: failed to decode the chunk just encoded: %w", err)
		}
	}
	putHeader(dst[start:start+hlen], used.ID(), b, p, payloadLen, transform)
	crc := crc32.Update(0, castagnoli, dst[start:start+hlen-4])
	crc = crc32.Update(crc, castagnoli, dst[start+hlen:])
	binary.LittleEndian.PutUint32(dst[start+hlen-4:], crc)
	return dst, nil
}

// deltaInnerBound returns the bound on the residuals of src for the absolute
// bound eb, kept below eb by the rounding of ref + r' to the dtype and the
// encoder's margin at the largest value of the chunk. It returns 0 when
// nothing is left, and the chunk is then encoded without the residual.
func deltaInnerBound(dt DType, src []byte, eb float64) float64 {
	top := 0.0
	for i := range len(src) / dt.Size() {
		if v := math.Abs(loadValue(src, dt, i)); v-v == 0 && v > top {
			top = v
		}
	}
	inner := eb - 3*ulpOf(dt, top) - 0x1p-40*top
	if !(inner > 0) {
		return 0
	}
	return inner
}

func putHeader(h []byte, id ID, b Bound, p Params, payloadLen int, transform Transform) {
	copy(h[0:4], magic[:])
	h[4] = FormatVersion
	h[5] = byte(id)
	h[6] = byte(p.DType)
	h[7] = byte(len(p.Shape))
	h[8] = byte(b.Mode)
	h[9] = 0
	if p.HasFill {
		h[9] = flagHasFill
	}
	h[10], h[11] = byte(transform), 0
	binary.LittleEndian.PutUint64(h[12:], math.Float64bits(b.Value))
	binary.LittleEndian.PutUint64(h[20:], math.Float64bits(p.Bound))
	fill := 0.0
	if p.HasFill {
		fill = p.Fill
	}
	binary.LittleEndian.PutUint64(h[28:], math.Float64bits(fill))
	binary.LittleEndian.PutUint64(h[36:], uint64(p.Count()))
	off := fixedHeaderLen
	for _, d := range p.Shape {
		binary.LittleEndian.PutUint32(h[off:], uint32(d))
		off += 4
	}
	binary.LittleEndian.PutUint32(h[off:], uint32(payloadLen))
}

func checkParams(p Params, srcLen int) error {
	if !p.DType.Valid() {
		return fmt.Errorf("codecs: invalid dtype %d", uint8(p.DType))
	}
	if len(p.Shape) < 1 || len(p.Shape) > MaxDims {
		return fmt.Errorf("codecs: chunk has %d dimensions, allowed are 1 to %d", len(p.Shape), MaxDims)
	}
	n := 1
	for i, d := range p.Shape {
		if d < 1 || d > math.MaxUint32 {
			return fmt.Errorf("codecs: chunk dimension %d has size %d, allowed are 1 to %d", i, d, uint32(math.MaxUint32))
		}
		n *= d
		if n*p.DType.Size() > MaxChunkBytes {
			return fmt.Errorf("codecs: chunk shape %v exceeds %d bytes", p.Shape, MaxChunkBytes)
		}
	}
	if n*p.DType.Size() != srcLen {
		return fmt.Errorf("codecs: chunk shape %v of %s needs %d bytes, got %d", p.Shape, p.DType, n*p.DType.Size(), srcLen)
	}
	if math.IsNaN(p.Bound) || math.IsInf(p.Bound, 0) || p.Bound < 0 {
		return fmt.Errorf("codecs: invalid absolute bound %v: must be finite and not negative", p.Bound)
	}
	return nil
}

// ParseHeader parses the header of stream, verifies the checksum over header
// and payload, and returns the header and the payload. Every failure wraps
// ErrCorrupt.
func ParseHeader(stream []byte) (Header, []byte, error) {
	var h Header
	if len(stream) < fixedHeaderLen+8 {
		return h, nil, corruptf("stream of %d bytes is shorter than the %d-byte minimum header", len(stream), fixedHeaderLen+8)
	}
	if [4]byte(stream[0:4]) != magic {
		return h, nil, corruptf("bad magic %q, expected %q", stream[0:4], magic[:])
	}
	h.Version = stream[4]
	if h.Version != FormatVersion {
		return h, nil, corruptf("stream format version %d, this build reads version %d", h.Version, FormatVersion)
	}
	ndim := int(stream[7])
	if ndim < 1 || ndim > MaxDims {
		return h, nil, corruptf("stream has %d dimensions, allowed are 1 to %d", ndim, MaxDims)
	}
	hlen := HeaderLen(ndim)
	if len(stream) < hlen {
		return h, nil, corruptf("stream of %d bytes is shorter than its %d-byte header", len(stream), hlen)
	}
	payloadLen := int(binary.LittleEndian.Uint32(stream[hlen-8:]))
	if len(stream)-hlen != payloadLen {
		return h, nil, corruptf("payload is %d bytes, header says %d", len(stream)-hlen, payloadLen)
	}
	crc := crc32.Update(0, castagnoli, stream[:hlen-4])
	crc = crc32.Update(crc, castagnoli, stream[hlen:])
	if want := binary.LittleEndian.Uint32(stream[hlen-4:]); crc != want {
		return h, nil, corruptf("checksum mismatch: computed %08x, stored %08x", crc, want)
	}

	h.Codec = ID(stream[5])
	h.DType = DType(stream[6])
	if !h.DType.Valid() {
		return h, nil, corruptf("invalid dtype %d", stream[6])
	}
	h.Bound.Mode = Mode(stream[8])
	flags := stream[9]
	if flags&^flagHasFill != 0 || stream[11] != 0 {
		return h, nil, corruptf("unknown flags %#x or non-zero reserved byte", flags)
	}
	h.Transform = Transform(stream[10])
	switch {
	case h.Transform > TransformDelta:
		return h, nil, corruptf("unknown transform %d", stream[10])
	case h.Transform != TransformNone && !h.DType.IsFloat():
		return h, nil, corruptf("transform %d on integer dtype %s", stream[10], h.DType)
	}
	h.HasFill = flags&flagHasFill != 0
	h.Bound.Value = math.Float64frombits(binary.LittleEndian.Uint64(stream[12:]))
	if err := h.Bound.Validate(); err != nil {
		return h, nil, corruptf("%v", err)
	}
	h.AbsBound = math.Float64frombits(binary.LittleEndian.Uint64(stream[20:]))
	if math.IsNaN(h.AbsBound) || math.IsInf(h.AbsBound, 0) || h.AbsBound < 0 {
		return h, nil, corruptf("invalid absolute bound %v", h.AbsBound)
	}
	if h.Transform == TransformPWRel && !(h.AbsBound > 0 && h.AbsBound < 1) {
		return h, nil, corruptf("invalid point-wise relative bound %v", h.AbsBound)
	}
	h.Fill = math.Float64frombits(binary.LittleEndian.Uint64(stream[28:]))
	count := binary.LittleEndian.Uint64(stream[36:])
	h.Shape = make([]int, ndim)
	n := uint64(1)
	for i := range h.Shape {
		d := binary.LittleEndian.Uint32(stream[fixedHeaderLen+4*i:])
		if d == 0 {
			return h, nil, corruptf("dimension %d has size 0", i)
		}
		h.Shape[i] = int(d)
		n *= uint64(d)
		if n*uint64(h.DType.Size()) > MaxChunkBytes {
			return h, nil, corruptf("chunk shape exceeds %d bytes", MaxChunkBytes)
		}
	}
	if n != count {
		return h, nil, corruptf("value count %d does not match shape %v", count, h.Shape)
	}
	h.PayloadLen = payloadLen
	return h, stream[hlen:], nil
}

// Decode verifies stream and decodes its values into dst, which must hold
// exactly the chunk's raw bytes. It returns the stream header. A temporal
// residual stream returns an error wrapping ErrNeedsReference: decode it
// with DecodeDelta.
func Decode(dst, stream []byte) (Header, error) {
	return decode(dst, stream, nil)
}

// DecodeDelta is Decode for a stream that may be a temporal residual:
// ref holds the reconstruction of the previous timestep, with as many bytes
// as dst. A stream that is not a residual decodes as with Decode.
func DecodeDelta(dst, stream, ref []byte) (Header, error) {
	if len(ref) != len(dst) {
		return Header{}, fmt.Errorf("codecs: reference has %d bytes, the destination %d", len(ref), len(dst))
	}
	return decode(dst, stream, ref)
}

func decode(dst, stream, ref []byte) (Header, error) {
	h, payload, err := ParseHeader(stream)
	if err != nil {
		return h, err
	}
	return h, decodePayload(h, dst, payload, ref)
}

// decodePayload decodes the checked payload of a stream with header h into
// dst with the CPU codec the header names. ref is the previous timestep's
// reconstruction for a temporal residual, nil otherwise.
func decodePayload(h Header, dst, payload, ref []byte) error {
	p := h.Params()
	if want := p.Count() * h.DType.Size(); len(dst) != want {
		return fmt.Errorf("codecs: destination has %d bytes, chunk %v of %s needs %d", len(dst), h.Shape, h.DType, want)
	}
	c, err := ByID(h.Codec)
	if err != nil {
		return corruptf("%v", err)
	}
	switch h.Transform {
	case TransformPWRel:
		err = decodeMapped(dst, payload, p, c, pwrelMap{rel: h.AbsBound})
	case TransformDelta:
		if ref == nil {
			return fmt.Errorf("codecs: %w", ErrNeedsReference)
		}
		err = decodeMapped(dst, payload, p, c, deltaMap{ref: ref, dtype: h.DType, eb: h.AbsBound})
	default:
		err = c.Decode(dst, payload, p)
	}
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			err = fmt.Errorf("%w: %s payload: %v", ErrCorrupt, c.Name(), err)
		}
		return err
	}
	return nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
