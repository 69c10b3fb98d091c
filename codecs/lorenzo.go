package codecs

// Lorenzo payload (codec ID 2, name "lorenzo"), for float32 and float64
// chunks with an absolute bound eb > 0.
//
// Each value x is predicted from already reconstructed neighbours by the
// Lorenzo predictor p, and the residual is quantized to
// q = round((x-p) / 2eb). The decoder rebuilds x' = p + q*2eb, converted to
// the dtype. The encoder keeps q only if |x - x'| <= eb in float64 and
// -32766 <= q <= 32767, and stores x verbatim otherwise. Each value gets one
// uint16 code:
//
//	0         verbatim: the raw bits of x are in the verbatim section
//	1         x has the bits of the fill value converted to the dtype
//	2..65535  quantized residual, q = code - 32768
//
// NaN, +Inf and -Inf are always verbatim, bit-exact with their payload. So
// is a value that compares equal to the fill value without having its bits
// (-0 against a fill of +0).
//
// Prediction. Dimensions of size 1 are dropped first. With one dimension
// left, p = a[i-1]; with two, p = a[i-1][j] + a[i][j-1] - a[i-1][j-1]; with
// three, p is the 7-term 3-D Lorenzo predictor
//
//	(a[i-1][j][k] + a[i][j-1][k] - a[i-1][j-1][k] - a[i-1][j][k-1]
//	- a[i][j-1][k-1] + a[i-1][j-1][k-1]) + a[i][j][k-1]
//
// summed in float64 in exactly that order. The 1-D and 2-D predictors are
// this sum with the missing neighbours set to 0, so they round the same way. With more than three dimensions
// the leading ones are folded into independent 3-D slabs along the last
// three. Neighbours outside the chunk or slab count as 0. Later predictions
// see x' for a quantized value and x for a finite verbatim value. For a fill
// value or a non-finite verbatim value they see p, or 0 when p is not
// finite, so fill regions and NaNs do not disturb their neighbours.
//
// Byte layout. The payload starts with one byte that says how the body is
// stored:
//
//	0  the body follows as is
//	1  a uvarint with the length of the body, then one zstd frame of the body
//
// The encoder stores the body as is when it is shorter than 256 bytes or
// when zstd does not make it smaller. The body is
//
//	byte     version, 1
//	byte     dtype, the DType value (1 for f32, 2 for f64)
//	byte     predictor dimensions after dropping size-1 dimensions, 1 to 3
//	8 bytes  eb, float64 little-endian; must equal the stream header's bound
//	uvarint  number of values, must equal the product of the shape
//	uvarint  number of verbatim values, at most the number of values
//	...      the codes, one per value in C order, as a Huffman block
//	         (package codecs/internal/huffman documents its layout)
//	...      verbatim values in C order, little-endian, dtype size each;
//	         the body ends after the last one
//
// The codec views chunk bytes as []float32 or []float64 in place, which
// assumes a little-endian host, as the rest of the engine does.

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/epsilon-db/epsilon/codecs/internal/huffman"
)

// Lorenzo is the error-bounded Lorenzo predictor + Huffman + zstd codec.
var Lorenzo Codec = lorenzoCodec{}

func init() { Register(Lorenzo) }

const (
	lorenzoVersion   = 1
	lorenzoHeaderLen = 11 // version, dtype, dims, eb

	// Body storage modes, the first payload byte.
	lorenzoBodyRaw  = 0
	lorenzoBodyZstd = 1
	// lorenzoMinZstdBody is the smallest body the encoder compresses with
	// zstd. Below it the frame overhead eats most of the gain.
	lorenzoMinZstdBody = 256

	lorenzoRadius   = 32768
	codeVerbatim    = 0
	codeFill        = 1
	lorenzoMinQuant = 2 - lorenzoRadius     // smallest q, code 2
	lorenzoMaxQuant = 65535 - lorenzoRadius // largest q, code 65535

	// roundMagic is 1.5 * 2^52: x + roundMagic - roundMagic rounds x to
	// the nearest integer, ties to even, when |x| < 2^51.
	roundMagic = 0x1.8p52

	// huffmanMaxTableLen bounds the size of a Huffman code table: a symbol
	// count, up to 65536 gaps of up to 3 bytes and 65536 lengths.
	huffmanMaxTableLen = 3 + 4*huffman.MaxSymbols
)

type lorenzoCodec struct{}

func (lorenzoCodec) ID() ID       { return IDLorenzo }
func (lorenzoCodec) Name() string { return "lorenzo" }

// float is the set of dtypes the Lorenzo codec handles.
type float interface{ ~float32 | ~float64 }

// lorenzoGeometry is the chunk as the predictor walks it: planes of rows x
// cols values, in slabs of slabPlanes planes that are predicted
// independently.
type lorenzoGeometry struct {
	planes, slabPlanes int
	rows, cols         int
	// dims is the number of predictor dimensions, 1 to 3.
	dims int
}

// newLorenzoGeometry drops the size-1 dimensions of shape and maps the rest
// onto planes, rows and columns. One dimension of n values becomes n planes
// of one value, and two dimensions a x b become a planes of one row of b.
// The 3-D predictor on such planes is exactly the 1-D or 2-D predictor,
// because the neighbours outside a 1 x 1 plane or a single row are 0.
func newLorenzoGeometry(shape []int) lorenzoGeometry {
	var kept [MaxDims]int
	k := 0
	for _, d := range shape {
		if d != 1 && k < len(kept) {
			kept[k] = d
			k++
		}
	}
	switch k {
	case 0:
		return lorenzoGeometry{planes: 1, slabPlanes: 1, rows: 1, cols: 1, dims: 1}
	case 1:
		return lorenzoGeometry{planes: kept[0], slabPlanes: kept[0], rows: 1, cols: 1, dims: 1}
	case 2:
		return lorenzoGeometry{planes: kept[0], slabPlanes: kept[0], rows: 1, cols: kept[1], dims: 2}
	}
	slabs := 1
	for _, d := range kept[:k-3] {
		slabs *= d
	}
	return lorenzoGeometry{
		planes:     slabs * kept[k-3],
		slabPlanes: kept[k-3],
		rows:       kept[k-2],
		cols:       kept[k-1],
		dims:       3,
	}
}

// planeLen returns the size of one zero-padded plane: an extra leading row
// and column hold the zero neighbours outside the chunk.
func (g lorenzoGeometry) planeLen() int { return (g.rows + 1) * (g.cols + 1) }

// lorenzoScratch holds the buffers of one encode or decode call.
type lorenzoScratch struct {
	codes  []uint16
	planes []float64
	verb   []byte
	body   []byte
}

var lorenzoPool = sync.Pool{New: func() any { return new(lorenzoScratch) }}

// prepare sizes the buffers for n values and zeroes the two planes.
func (s *lorenzoScratch) prepare(n int, g lorenzoGeometry) {
	if cap(s.codes) < n {
		s.codes = make([]uint16, n)
	}
	s.codes = s.codes[:n]
	pl := 2 * g.planeLen()
	if cap(s.planes) < pl {
		s.planes = make([]float64, pl)
	}
	s.planes = s.planes[:pl]
	clear(s.planes)
}

// viewAs returns b as a slice of T without copying. Float32 and float64
// values in chunk bytes are little-endian, so this assumes a little-endian
// host.
func viewAs[T float](b []byte) []T {
	var zero T
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}

// floatBits returns the bit pattern of x, zero-extended for float32.
func floatBits[T float](x T) uint64 {
	if unsafe.Sizeof(x) == 4 {
		return uint64(*(*uint32)(unsafe.Pointer(&x)))
	}
	return *(*uint64)(unsafe.Pointer(&x))
}

// appendRaw appends the bits of x in little-endian order. It copies bits, so
// a NaN keeps its payload.
func appendRaw[T float](b []byte, x T) []byte {
	if unsafe.Sizeof(x) == 4 {
		return binary.LittleEndian.AppendUint32(b, *(*uint32)(unsafe.Pointer(&x)))
	}
	return binary.LittleEndian.AppendUint64(b, *(*uint64)(unsafe.Pointer(&x)))
}

// loadRaw returns value i of the little-endian values in b.
func loadRaw[T float](b []byte, i int) T {
	var x T
	if unsafe.Sizeof(x) == 4 {
		u := binary.LittleEndian.Uint32(b[4*i:])
		return *(*T)(unsafe.Pointer(&u))
	}
	u := binary.LittleEndian.Uint64(b[8*i:])
	return *(*T)(unsafe.Pointer(&u))
}

// lorenzoPredict returns the 3-D Lorenzo prediction from the seven
// neighbours, named by which of plane (p), row (r) and column (c) they lag
// by one. The additions run in the order written and contain no product, so
// every platform rounds them the same way. The column neighbour c, the value
// reconstructed just before, comes last: the other six terms do not depend
// on it, so the CPU can sum them while that value is still being computed.
func lorenzoPredict(p, r, c, pr, pc, rc, prc float64) float64 {
	return (p + r - pr - pc - rc + prc) + c
}

// finiteOrZero returns v, or 0 when v is NaN or infinite.
func finiteOrZero(v float64) float64 {
	if v-v == 0 {
		return v
	}
	return 0
}

func (lorenzoCodec) AppendEncode(dst, src []byte, p Params) ([]byte, error) {
	if !p.DType.IsFloat() {
		return dst, fmt.Errorf("lorenzo: dtype %s: %w", p.DType, ErrUnsupported)
	}
	if !(p.Bound > 0) || math.IsInf(p.Bound, 0) {
		return dst, fmt.Errorf("lorenzo: bound %v must be finite and greater than 0: %w", p.Bound, ErrUnsupported)
	}
	n := p.Count()
	if n < 1 || n*p.DType.Size() != len(src) {
		return dst, fmt.Errorf("lorenzo: chunk shape %v of %s needs %d bytes, got %d", p.Shape, p.DType, n*p.DType.Size(), len(src))
	}
	g := newLorenzoGeometry(p.Shape)
	s := lorenzoPool.Get().(*lorenzoScratch)
	defer lorenzoPool.Put(s)
	s.prepare(n, g)

	if p.DType == Float32 {
		fill := float32(p.Fill)
		s.verb = lorenzoEncode(viewAs[float32](src), s, g, p.Bound, p.HasFill, fill)
	} else {
		s.verb = lorenzoEncode(viewAs[float64](src), s, g, p.Bound, p.HasFill, p.Fill)
	}
	nverb := len(s.verb) / p.DType.Size()

	body := append(s.body[:0], lorenzoVersion, byte(p.DType), byte(g.dims))
	body = binary.LittleEndian.AppendUint64(body, math.Float64bits(p.Bound))
	body = binary.AppendUvarint(body, uint64(n))
	body = binary.AppendUvarint(body, uint64(nverb))
	body, err := huffman.AppendEncode(body, s.codes)
	if err != nil {
		return dst, fmt.Errorf("lorenzo: %w", err)
	}
	body = append(body, s.verb...)
	s.body = body

	start := len(dst)
	if len(body) >= lorenzoMinZstdBody {
		dst = appendZstd(append(dst, lorenzoBodyZstd), body)
		if len(dst)-start <= len(body) {
			return dst, nil
		}
		dst = dst[:start]
	}
	dst = append(dst, lorenzoBodyRaw)
	return append(dst, body...), nil
}

// lorenzoEncode fills s.codes for src and returns s.verb with the verbatim
// values appended. The quantization and reconstruction expressions must stay
// identical to lorenzoDecode's so both sides reconstruct the same bits.
func lorenzoEncode[T float](src []T, s *lorenzoScratch, g lorenzoGeometry, eb float64, hasFill bool, fill T) []byte {
	codes := s.codes[:len(src)]
	verb := s.verb[:0]
	twoEB := float64(2 * eb)
	inv := 1 / twoEB
	fillBits := floatBits(fill)

	w := g.cols + 1
	plen := g.planeLen()
	prev, cur := s.planes[:plen], s.planes[plen:2*plen]
	idx := 0
	for plane := range g.planes {
		if plane > 0 && plane%g.slabPlanes == 0 {
			clear(prev)
		}
		for j := 1; j <= g.rows; j++ {
			pRow := prev[j*w : j*w+w]
			pUp := prev[(j-1)*w : j*w]
			cRow := cur[j*w : j*w+w]
			cUp := cur[(j-1)*w : j*w]
			out := codes[idx : idx+g.cols]
			in := src[idx : idx+g.cols]
			for k := 1; k < w; k++ {
				pred := lorenzoPredict(pRow[k], cUp[k], cRow[k-1], pUp[k], pRow[k-1], cUp[k-1], pUp[k-1])
				xv := in[k-1]
				x := float64(xv)

				if hasFill && xv == fill && floatBits(xv) == fillBits {
					out[k-1] = codeFill
					cRow[k] = finiteOrZero(pred)
					continue
				}
				if !(hasFill && xv == fill) {
					// A value equal to the fill value but with other bits
					// (-0 against +0) falls through to verbatim.
					//
					// Adding and subtracting roundMagic rounds to an
					// integer for magnitudes below 2^51. Larger, infinite
					// or NaN quotients stay out of the code range, so the
					// range check rejects them.
					qf := float64(float64(float64(x-pred)*inv)+roundMagic) - roundMagic
					if qf >= lorenzoMinQuant && qf <= lorenzoMaxQuant {
						// qf is a whole number here, so qf equals
						// float64(q) for q = int(qf), which lorenzoDecode
						// multiplies.
						r := pred + float64(qf*twoEB)
						rt := T(r)
						if math.Abs(x-float64(rt)) <= eb {
							out[k-1] = uint16(int(qf) + lorenzoRadius)
							cRow[k] = float64(rt)
							continue
						}
					}
				}
				out[k-1] = codeVerbatim
				verb = appendRaw(verb, xv)
				if x-x == 0 {
					cRow[k] = x
				} else {
					cRow[k] = finiteOrZero(pred)
				}
			}
			idx += g.cols
		}
		prev, cur = cur, prev
	}
	return verb
}

func (lorenzoCodec) Decode(dst, payload []byte, p Params) error {
	if !p.DType.IsFloat() {
		return corruptf("lorenzo payload for dtype %s, expected f32 or f64", p.DType)
	}
	if !(p.Bound > 0) || math.IsInf(p.Bound, 0) {
		return corruptf("lorenzo payload with bound %v, expected a finite bound greater than 0", p.Bound)
	}
	size := p.DType.Size()
	n := p.Count()
	if n < 1 || n*size != len(dst) {
		return fmt.Errorf("lorenzo: destination has %d bytes, chunk shape %v of %s needs %d", len(dst), p.Shape, p.DType, n*size)
	}
	g := newLorenzoGeometry(p.Shape)
	s := lorenzoPool.Get().(*lorenzoScratch)
	defer lorenzoPool.Put(s)

	maxBody := lorenzoHeaderLen + 2*binary.MaxVarintLen64 + huffmanMaxTableLen + binary.MaxVarintLen64 + 3*n + size*n
	if len(payload) == 0 {
		return corruptf("empty lorenzo payload")
	}
	var body []byte
	switch payload[0] {
	case lorenzoBodyRaw:
		body = payload[1:]
		if len(body) > maxBody {
			return corruptf("lorenzo body of %d bytes exceeds the %d bytes %d values can take", len(body), maxBody, n)
		}
	case lorenzoBodyZstd:
		var err error
		body, _, err = readZstd(s.body, payload[1:], maxBody)
		if err != nil {
			return err
		}
		s.body = body
	default:
		return corruptf("unknown lorenzo body storage mode %d", payload[0])
	}

	if len(body) < lorenzoHeaderLen {
		return corruptf("lorenzo body of %d bytes is shorter than its %d-byte header", len(body), lorenzoHeaderLen)
	}
	if body[0] != lorenzoVersion {
		return corruptf("lorenzo payload version %d, this build reads version %d", body[0], lorenzoVersion)
	}
	if DType(body[1]) != p.DType {
		return corruptf("lorenzo payload holds dtype %s, the header says %s", DType(body[1]), p.DType)
	}
	if int(body[2]) != g.dims {
		return corruptf("lorenzo payload predicts in %d dimensions, shape %v needs %d", body[2], p.Shape, g.dims)
	}
	if eb := math.Float64frombits(binary.LittleEndian.Uint64(body[3:])); eb != p.Bound {
		return corruptf("lorenzo payload bound %v differs from the header bound %v", eb, p.Bound)
	}
	off := lorenzoHeaderLen
	count, k := binary.Uvarint(body[off:])
	if k <= 0 || count != uint64(n) {
		return corruptf("lorenzo value count %d (uvarint status %d) does not match shape %v", count, k, p.Shape)
	}
	off += k
	nverb, k := binary.Uvarint(body[off:])
	if k <= 0 || nverb > uint64(n) {
		return corruptf("lorenzo verbatim count %d (uvarint status %d) is invalid for %d values", nverb, k, n)
	}
	off += k

	s.prepare(n, g)
	used, err := huffman.Decode(s.codes, body[off:])
	if err != nil {
		return corruptf("lorenzo codes: %v", err)
	}
	off += used
	verb := body[off:]
	if uint64(len(verb)) != nverb*uint64(size) {
		return corruptf("lorenzo verbatim section has %d bytes, %d values of %d bytes expected", len(verb), nverb, size)
	}

	if p.DType == Float32 {
		return lorenzoDecode(viewAs[float32](dst), s, verb, g, p.Bound, p.HasFill, float32(p.Fill))
	}
	return lorenzoDecode(viewAs[float64](dst), s, verb, g, p.Bound, p.HasFill, p.Fill)
}

// lorenzoDecode reconstructs dst from s.codes and the verbatim values in verb,
// which holds exactly the number of values the codes need if the payload is
// valid.
func lorenzoDecode[T float](dst []T, s *lorenzoScratch, verb []byte, g lorenzoGeometry, eb float64, hasFill bool, fill T) error {
	codes := s.codes[:len(dst)]
	twoEB := float64(2 * eb)
	nverb := len(verb) / int(unsafe.Sizeof(fill))
	vi := 0

	w := g.cols + 1
	plen := g.planeLen()
	prev, cur := s.planes[:plen], s.planes[plen:2*plen]
	idx := 0
	for plane := range g.planes {
		if plane > 0 && plane%g.slabPlanes == 0 {
			clear(prev)
		}
		for j := 1; j <= g.rows; j++ {
			pRow := prev[j*w : j*w+w]
			pUp := prev[(j-1)*w : j*w]
			cRow := cur[j*w : j*w+w]
			cUp := cur[(j-1)*w : j*w]
			in := codes[idx : idx+g.cols]
			out := dst[idx : idx+g.cols]
			for k := 1; k < w; k++ {
				pred := lorenzoPredict(pRow[k], cUp[k], cRow[k-1], pUp[k], pRow[k-1], cUp[k-1], pUp[k-1])
				c := in[k-1]
				if c > codeFill {
					q := int(c) - lorenzoRadius
					r := pred + float64(float64(q)*twoEB)
					rt := T(r)
					out[k-1] = rt
					cRow[k] = float64(rt)
					continue
				}
				if c == codeFill {
					if !hasFill {
						return corruptf("lorenzo fill code at value %d of a chunk without a fill value", idx+k-1)
					}
					out[k-1] = fill
					cRow[k] = finiteOrZero(pred)
					continue
				}
				if vi >= nverb {
					return corruptf("lorenzo verbatim code at value %d, but all %d verbatim values are used", idx+k-1, nverb)
				}
				xv := loadRaw[T](verb, vi)
				vi++
				out[k-1] = xv
				if x := float64(xv); x-x == 0 {
					cRow[k] = x
				} else {
					cRow[k] = finiteOrZero(pred)
				}
			}
			idx += g.cols
		}
		prev, cur = cur, prev
	}
	if vi != nverb {
		return corruptf("lorenzo payload has %d verbatim values, the codes use %d", nverb, vi)
	}
	return nil
}
