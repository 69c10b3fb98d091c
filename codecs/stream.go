package codecs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Stream format constants. See the package documentation for the layout.
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
	// means the chunk is lossless.
	AbsBound float64
	HasFill  bool
	Fill     float64
	Shape    []int
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
// the absolute bound applied.
//
// The chunk is stored losslessly instead when p.Bound is 0, when c returns
// ErrUnsupported (integer dtypes, for example), or when the lossy payload is
// not smaller than the raw values. The header names the codec actually used.
func Encode(dst []byte, c Codec, b Bound, p Params, src []byte) ([]byte, error) {
	if err := checkParams(p, len(src)); err != nil {
		return dst, err
	}
	if sel, ok := c.(Selector); ok {
		c = sel.Select(src, p)
	}
	start := len(dst)
	hlen := HeaderLen(len(p.Shape))
	dst = append(dst, make([]byte, hlen)...)

	used := c
	var err error
	if p.Bound == 0 || c.ID() == IDLossless {
		used = Lossless
		p.Bound = 0
		dst, err = Lossless.AppendEncode(dst, src, p)
	} else {
		dst, err = c.AppendEncode(dst, src, p)
		if errors.Is(err, ErrUnsupported) || (err == nil && len(dst)-start-hlen >= len(src)) {
			// The lossy payload is no smaller than the raw values, so a
			// lossless payload is at least as small and exact.
			dst = dst[:start+hlen]
			used = Lossless
			p.Bound = 0
			dst, err = Lossless.AppendEncode(dst, src, p)
		}
	}
	if err != nil {
		return dst[:start], err
	}
	payloadLen := len(dst) - start - hlen
	if payloadLen > math.MaxUint32 {
		return dst[:start], fmt.Errorf("codecs: payload of %d bytes exceeds the 4 GiB stream limit", payloadLen)
	}
	putHeader(dst[start:start+hlen], used.ID(), b, p, payloadLen)
	crc := crc32.Update(0, castagnoli, dst[start:start+hlen-4])
	crc = crc32.Update(crc, castagnoli, dst[start+hlen:])
	binary.LittleEndian.PutUint32(dst[start+hlen-4:], crc)
	return dst, nil
}

func putHeader(h []byte, id ID, b Bound, p Params, payloadLen int) {
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
	h[10], h[11] = 0, 0
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
	if flags&^flagHasFill != 0 || stream[10] != 0 || stream[11] != 0 {
		return h, nil, corruptf("unknown flags %#x or non-zero reserved bytes", flags)
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
// exactly the chunk's raw bytes. It returns the stream header.
func Decode(dst, stream []byte) (Header, error) {
	h, payload, err := ParseHeader(stream)
	if err != nil {
		return h, err
	}
	return h, decodePayload(h, dst, payload)
}

// decodePayload decodes the checked payload of a stream with header h into
// dst with the CPU codec the header names.
func decodePayload(h Header, dst, payload []byte) error {
	p := h.Params()
	if want := p.Count() * h.DType.Size(); len(dst) != want {
		return fmt.Errorf("codecs: destination has %d bytes, chunk %v of %s needs %d", len(dst), h.Shape, h.DType, want)
	}
	c, err := ByID(h.Codec)
	if err != nil {
		return corruptf("%v", err)
	}
	if err := c.Decode(dst, payload, p); err != nil {
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
