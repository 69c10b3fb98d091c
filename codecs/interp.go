package codecs

// Interp payload (codec ID 3, name "interp"), for float32 and float64 chunks
// with an absolute bound eb > 0.
//
// Prediction. Dimensions of size 1 are dropped first; every remaining
// dimension takes part, up to eight. With S the largest power of two below
// the longest dimension, the predictor walks the strides s = S, S/2, ..., 1
// (level l = log2(s)+1, so level 1 is the finest). Before level l, every
// point whose coordinates are all multiples of 2s is known. For each
// dimension d in the payload's dimension order, the pass (s, d) predicts the
// points whose coordinate along d is an odd multiple of s. Their coordinates
// along the dimensions before d in the order are multiples of s, and along
// the dimensions after d multiples of 2s. A pass reads only points of earlier
// passes, so its points may be visited in any order; they are visited in C
// order. The very first value, at coordinate 0, is predicted as 0 at the top
// level.
//
// A point at coordinate i along d, on a line of n points, with neighbours
// a(k) at coordinate i+k*s along d, is predicted by the first rule that
// applies:
//
//	i+s >= n, i >= 3s    1.5*a(-1) - 0.5*a(-3)             (extrapolation)
//	i+s >= n             a(-1)
//	linear interpolator  (a(-1) + a(1)) * 0.5
//	i >= 3s, i+3s < n    (9*(a(-1) + a(1)) - (a(-3) + a(3))) * 0.0625  (cubic)
//	i+3s < n             (3*a(-1) + 6*a(1) - a(3)) * 0.125
//	i >= 3s              (6*a(-1) + 3*a(1) - a(-3)) * 0.125
//	otherwise            (a(-1) + a(1)) * 0.5
//
// evaluated in float64 in exactly the order written, each product rounded
// on its own (no fused multiply-add), so every platform computes the same
// bits.
//
// Quantization. Level l uses the bound eb_l = eb / f_l with
// f_l = min(alpha^(l-1), beta), where f_l is computed by repeated
// multiplication f = f*alpha from 1, stopping at beta. The residual is
// quantized to q = round((x-p) / (2*eb_l)) and the decoder rebuilds
// x' = p + q*(2*eb_l), converted to the dtype. The encoder keeps q only if
// |x - x'| <= eb in float64 and -32766 <= q <= 32767, and stores x verbatim
// otherwise. Codes, one uint16 per value in the order the passes visit them:
//
//	0         verbatim: the raw bits of x are in the verbatim section
//	1         x has the bits of the fill value converted to the dtype
//	2..65535  quantized residual, q = code - 32768
//
// NaN, +Inf and -Inf are always verbatim, bit-exact with their payload, and
// so is a value that compares equal to the fill value without having its
// bits. Later predictions see x' for a quantized value and x for a finite
// verbatim value. For a fill value or a non-finite verbatim value they see
// p converted to the dtype, or 0 when that is not finite.
//
// Byte layout. The first payload byte says how the body is stored, as in the
// lorenzo payload:
//
//	0  the body follows as is
//	1  a uvarint with the length of the body, then one zstd frame of the body
//
// The body is
//
//	byte     version, 1
//	byte     dtype, the DType value (1 for f32, 2 for f64)
//	byte     nd, the number of dimensions after dropping size-1 dimensions,
//	         1 to 8 (a chunk of one value has nd 1)
//	byte     interpolator: 0 linear, 1 cubic
//	nd bytes dimension order, a permutation of 0..nd-1 (indices into the
//	         dimensions left after dropping)
//	8 bytes  alpha, float64 little-endian, 1 <= alpha <= 4
//	8 bytes  beta, float64 little-endian, 1 <= beta <= 64
//	8 bytes  eb, float64 little-endian; must equal the stream header's bound
//	uvarint  number of values, must equal the product of the shape
//	uvarint  number of verbatim values, at most the number of values
//	...      the codes as a Huffman block (package codecs/internal/huffman)
//	...      verbatim values in code order, little-endian, dtype size each;
//	         the body ends after the last one
//
// The encoder picks the interpolator, the dimension order and (alpha, beta)
// per chunk by running the predictor on a few sample boxes of the chunk and
// comparing the entropy of their codes (see interpTune).

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/epsilon-db/epsilon/codecs/internal/huffman"
)

// Interp is the error-bounded multilevel interpolation + Huffman + zstd codec.
var Interp Codec = interpCodec{}

func init() { Register(Interp) }

const (
	interpVersion = 1
	// interpFixedLen is the body header without the dimension order:
	// version, dtype, nd, interpolator, alpha, beta, eb.
	interpFixedLen = 4 + 3*8

	interpMaxAlpha = 4
	interpMaxBeta  = 64
	// interpMaxLevels bounds the level index: strides are below 2^32.
	interpMaxLevels = 34
)

// stencil is the prediction rule of one point. The comment at the top of
// this file gives the formulas.
type stencil uint8

const (
	stencilZero stencil = iota
	stencilCopy
	stencilExtrap
	stencilLinear
	stencilCubic
	stencilQuadLeft
	stencilQuadRight
)

type interpCodec struct {
	// preset, when set, is the configuration Auto tuned for the chunk it
	// selected this codec for, so AppendEncode skips its own tuning.
	preset *interpConfig
}

func (interpCodec) ID() ID       { return IDInterp }
func (interpCodec) Name() string { return "interp" }

// interpConfig is what the encoder tunes per chunk and the body records.
type interpConfig struct {
	cubic bool
	// order lists the squeezed dimensions in the order each level walks them.
	order       [MaxDims]uint8
	alpha, beta float64
}

// validFor reports whether cfg can code a chunk of geometry g: its order is
// a permutation of g's dimensions and its level factors are in range.
func (cfg *interpConfig) validFor(g *interpGeometry) bool {
	var seen [MaxDims]bool
	for _, d := range cfg.order[:g.nd] {
		if int(d) >= g.nd || seen[d] {
			return false
		}
		seen[d] = true
	}
	return cfg.alpha >= 1 && cfg.alpha <= interpMaxAlpha && cfg.beta >= 1 && cfg.beta <= interpMaxBeta
}

// interpGeometry is the chunk with its size-1 dimensions dropped.
type interpGeometry struct {
	nd      int
	dims    [MaxDims]int
	strides [MaxDims]int
	n       int
	// top is the largest stride, 0 for a chunk of one value.
	top int
}

func newInterpGeometry(shape []int) interpGeometry {
	var g interpGeometry
	for _, d := range shape {
		if d != 1 && g.nd < MaxDims {
			g.dims[g.nd] = d
			g.nd++
		}
	}
	if g.nd == 0 {
		g.nd, g.dims[0] = 1, 1
	}
	g.n = 1
	longest := 1
	for k := g.nd - 1; k >= 0; k-- {
		g.strides[k] = g.n
		g.n *= g.dims[k]
		longest = max(longest, g.dims[k])
	}
	if longest > 1 {
		g.top = 1 << (bits.Len(uint(longest-1)) - 1)
	}
	return g
}

// levels returns the number of levels, the level index of the top stride.
func (g *interpGeometry) levels() int {
	if g.top == 0 {
		return 1
	}
	return bits.Len(uint(g.top))
}

// levelBounds returns 2*eb_l and 1/(2*eb_l) for every level l.
func levelBounds(eb, alpha, beta float64, levels int) (twoEB, inv [interpMaxLevels + 1]float64) {
	f := 1.0
	for l := 1; l <= levels; l++ {
		if l > 1 && f < beta {
			f = f * alpha
			if f > beta {
				f = beta
			}
		}
		ebl := eb / f
		twoEB[l] = float64(2 * ebl)
		inv[l] = 1 / twoEB[l]
	}
	return twoEB, inv
}

// interpRow is a run of points that share one stencil: count points from pos
// in steps of step, with neighbours along the pass dimension off apart.
type interpRow struct {
	pos, step, count, off int
	kind                  stencil
}

// stencilAt returns the rule for coordinate i, an odd multiple of s, on a
// line of n points.
func stencilAt(i, n, s int, cubic bool) stencil {
	lo := i >= 3*s
	switch {
	case i+s >= n && lo:
		return stencilExtrap
	case i+s >= n:
		return stencilCopy
	case !cubic:
		return stencilLinear
	}
	hi := i+3*s < n
	switch {
	case lo && hi:
		return stencilCubic
	case hi:
		return stencilQuadLeft
	case lo:
		return stencilQuadRight
	}
	return stencilLinear
}

// walk calls visit for every run of points in decoding order with the level
// of the run.
func (g *interpGeometry) walk(cfg *interpConfig, visit func(level int, r interpRow)) {
	visit(g.levels(), interpRow{pos: 0, step: 1, count: 1, kind: stencilZero})
	for s := g.top; s >= 1; s /= 2 {
		level := bits.Len(uint(s))
		for k := 0; k < g.nd; k++ {
			d := int(cfg.order[k])
			if g.dims[d] <= s {
				continue
			}
			var start, step [MaxDims]int
			for kk := 0; kk < g.nd; kk++ {
				dd := cfg.order[kk]
				switch {
				case kk == k:
					start[dd], step[dd] = s, 2*s
				case kk < k:
					step[dd] = s
				default:
					step[dd] = 2 * s
				}
			}
			g.walkPass(d, s, &start, &step, cfg.cubic, level, visit)
		}
	}
}

// walkPass visits the points of pass (s, d) row by row along the last
// dimension.
func (g *interpGeometry) walkPass(d, s int, start, step *[MaxDims]int, cubic bool, level int, visit func(int, interpRow)) {
	last := g.nd - 1
	var coord [MaxDims]int
	for j := 0; j < last; j++ {
		coord[j] = start[j]
	}
	for {
		base := 0
		for j := 0; j < last; j++ {
			base += coord[j] * g.strides[j]
		}
		n := g.dims[last]
		if d != last {
			kind := stencilAt(coord[d], g.dims[d], s, cubic)
			count := (n-1)/step[last] + 1
			visit(level, interpRow{pos: base, step: step[last], count: count, off: s * g.strides[d], kind: kind})
		} else {
			for i := s; i < n; {
				kind := stencilAt(i, n, s, cubic)
				j := i + 2*s
				for j < n && stencilAt(j, n, s, cubic) == kind {
					j += 2 * s
				}
				visit(level, interpRow{pos: base + i, step: 2 * s, count: (j - i) / (2 * s), off: s, kind: kind})
				i = j
			}
		}

		// Advance the odometer over the dimensions before the last.
		j := last - 1
		for ; j >= 0; j-- {
			coord[j] += step[j]
			if coord[j] < g.dims[j] {
				break
			}
			coord[j] = start[j]
		}
		if j < 0 {
			return
		}
	}
}

// predictRow writes into pred the predictions of the len(pred) points of
// row r, by r's rule with neighbours r.off apart. The points of one pass
// read only points of earlier passes, so a whole row can be predicted before
// any of its points is coded. Each product is converted to float64 on its
// own so that no platform fuses it with the following addition.
func predictRow[T float](pred []float64, rec []T, r interpRow) {
	i, off, step := r.pos, r.off, r.step
	switch r.kind {
	case stencilCubic:
		for m := range pred {
			a, b, c, d := float64(rec[i-3*off]), float64(rec[i-off]), float64(rec[i+off]), float64(rec[i+3*off])
			pred[m] = float64(float64(9*(b+c))-(a+d)) * 0.0625
			i += step
		}
	case stencilLinear:
		for m := range pred {
			pred[m] = (float64(rec[i-off]) + float64(rec[i+off])) * 0.5
			i += step
		}
	case stencilQuadLeft:
		for m := range pred {
			b, c, d := float64(rec[i-off]), float64(rec[i+off]), float64(rec[i+3*off])
			pred[m] = float64(float64(3*b)+float64(6*c)-d) * 0.125
			i += step
		}
	case stencilQuadRight:
		for m := range pred {
			a, b, c := float64(rec[i-3*off]), float64(rec[i-off]), float64(rec[i+off])
			pred[m] = float64(float64(6*b)+float64(3*c)-a) * 0.125
			i += step
		}
	case stencilExtrap:
		for m := range pred {
			pred[m] = float64(1.5*float64(rec[i-off])) - float64(0.5*float64(rec[i-3*off]))
			i += step
		}
	case stencilCopy:
		for m := range pred {
			pred[m] = float64(rec[i-off])
			i += step
		}
	default:
		clear(pred)
	}
}

// neutral returns the value later predictions see in place of a fill or
// non-finite value predicted as pred.
func neutral[T float](pred float64) T {
	v := T(pred)
	if x := float64(v); x-x != 0 {
		return 0
	}
	return v
}

// interpScratch holds the buffers of one encode or decode call.
type interpScratch struct {
	codes   []uint16
	preds   []float64
	verb    []byte
	body    []byte
	rec32   []float32
	rec64   []float64
	sample  []byte
	patches []uint32
	hist    []uint32
	used    []uint16
}

var interpPool = sync.Pool{New: func() any { return new(interpScratch) }}

func (s *interpScratch) sizeCodes(n int) []uint16 {
	if cap(s.codes) < n {
		s.codes = make([]uint16, n)
	}
	s.codes = s.codes[:n]
	return s.codes
}

// predBuffer returns the prediction buffer of one row of g: a row has at
// most as many points as the last dimension.
func (s *interpScratch) predBuffer(g *interpGeometry) []float64 {
	n := g.dims[g.nd-1]
	if cap(s.preds) < n {
		s.preds = make([]float64, n)
	}
	return s.preds[:n]
}

// recBuffer returns a reconstruction buffer of n values of T.
func recBuffer[T float](s *interpScratch, n int) []T {
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		if cap(s.rec32) < n {
			s.rec32 = make([]float32, n)
		}
		s.rec32 = s.rec32[:n]
		return viewAs[T](unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s.rec32))), 4*n))
	}
	if cap(s.rec64) < n {
		s.rec64 = make([]float64, n)
	}
	s.rec64 = s.rec64[:n]
	return viewAs[T](unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s.rec64))), 8*n))
}

// interpEncoder quantizes the points of each run the walk visits.
type interpEncoder[T float] struct {
	src, rec   []T
	codes      []uint16
	nc         int
	preds      []float64
	verb       []byte
	eb         float64
	twoEB, inv [interpMaxLevels + 1]float64
	hasFill    bool
	fill       T
	fillBits   uint64
}

// visit codes one run. The quantization and reconstruction expressions must
// stay identical to interpDecoder.visit's so both sides rebuild the same bits.
func (e *interpEncoder[T]) visit(level int, r interpRow) {
	twoEB, inv, eb := e.twoEB[level], e.inv[level], e.eb
	src, rec := e.src, e.rec
	out := e.codes[e.nc : e.nc+r.count]
	e.nc += r.count
	preds := e.preds[:r.count]
	predictRow(preds, rec, r)
	i := r.pos
	for m, pred := range preds {
		xv := src[i]
		x := float64(xv)
		if e.hasFill && xv == e.fill {
			if floatBits(xv) == e.fillBits {
				out[m] = codeFill
				rec[i] = neutral[T](pred)
				i += r.step
				continue
			}
		} else {
			// See lorenzoEncode: the range check rejects quotients that
			// are too large, infinite or NaN.
			qf := float64(float64(float64(x-pred)*inv)+roundMagic) - roundMagic
			if qf >= lorenzoMinQuant && qf <= lorenzoMaxQuant {
				rt := T(pred + float64(qf*twoEB))
				if math.Abs(x-float64(rt)) <= eb {
					out[m] = uint16(int(qf) + lorenzoRadius)
					rec[i] = rt
					i += r.step
					continue
				}
			}
		}
		out[m] = codeVerbatim
		e.verb = appendRaw(e.verb, xv)
		if x-x == 0 {
			rec[i] = xv
		} else {
			rec[i] = neutral[T](pred)
		}
		i += r.step
	}
}

// interpDecoder rebuilds the points of each run from the codes.
type interpDecoder[T float] struct {
	rec       []T
	codes     []uint16
	nc        int
	preds     []float64
	verb      []byte
	vi, nverb int
	twoEB     [interpMaxLevels + 1]float64
	hasFill   bool
	patches   []uint32
	err       error
}

func (d *interpDecoder[T]) visit(level int, r interpRow) {
	if d.err != nil {
		return
	}
	twoEB := d.twoEB[level]
	rec := d.rec
	in := d.codes[d.nc : d.nc+r.count]
	d.nc += r.count
	preds := d.preds[:r.count]
	predictRow(preds, rec, r)
	i := r.pos
	for m, c := range in {
		pred := preds[m]
		switch {
		case c > codeFill:
			q := int(c) - lorenzoRadius
			rec[i] = T(pred + float64(float64(q)*twoEB))
		case c == codeFill:
			if !d.hasFill {
				d.err = corruptf("interp fill code at value %d of a chunk without a fill value", i)
				return
			}
			rec[i] = neutral[T](pred)
			d.patches = append(d.patches, uint32(i), 0)
		default:
			if d.vi >= d.nverb {
				d.err = corruptf("interp verbatim code at value %d, but all %d verbatim values are used", i, d.nverb)
				return
			}
			xv := loadRaw[T](d.verb, d.vi)
			d.vi++
			if x := float64(xv); x-x == 0 {
				rec[i] = xv
			} else {
				rec[i] = neutral[T](pred)
				d.patches = append(d.patches, uint32(i), uint32(d.vi))
			}
		}
		i += r.step
	}
}

// encodeInterp codes src with cfg into s.codes and returns the verbatim
// bytes (in s.verb).
func encodeInterp[T float](src []T, g *interpGeometry, cfg *interpConfig, s *interpScratch, eb float64, hasFill bool, fill T) []byte {
	e := &interpEncoder[T]{
		src:      src,
		rec:      recBuffer[T](s, len(src)),
		codes:    s.sizeCodes(len(src)),
		preds:    s.predBuffer(g),
		verb:     s.verb[:0],
		eb:       eb,
		hasFill:  hasFill,
		fill:     fill,
		fillBits: floatBits(fill),
	}
	e.twoEB, e.inv = levelBounds(eb, cfg.alpha, cfg.beta, g.levels())
	g.walk(cfg, e.visit)
	s.verb = e.verb
	return e.verb
}

func (c interpCodec) AppendEncode(dst, src []byte, p Params) ([]byte, error) {
	if !p.DType.IsFloat() {
		return dst, fmt.Errorf("interp: dtype %s: %w", p.DType, ErrUnsupported)
	}
	if !(p.Bound > 0) || math.IsInf(p.Bound, 0) {
		return dst, fmt.Errorf("interp: bound %v must be finite and greater than 0: %w", p.Bound, ErrUnsupported)
	}
	n := p.Count()
	if n < 1 || n*p.DType.Size() != len(src) {
		return dst, fmt.Errorf("interp: chunk shape %v of %s needs %d bytes, got %d", p.Shape, p.DType, n*p.DType.Size(), len(src))
	}
	g := newInterpGeometry(p.Shape)
	s := interpPool.Get().(*interpScratch)
	defer interpPool.Put(s)

	var cfg interpConfig
	usePreset := c.preset != nil && c.preset.validFor(&g)
	if usePreset {
		cfg = *c.preset
	}
	if p.DType == Float32 {
		data, fill := viewAs[float32](src), float32(p.Fill)
		if !usePreset {
			cfg, _ = interpTune(data, &g, s, p.Bound, p.HasFill, fill)
		}
		encodeInterp(data, &g, &cfg, s, p.Bound, p.HasFill, fill)
	} else {
		data := viewAs[float64](src)
		if !usePreset {
			cfg, _ = interpTune(data, &g, s, p.Bound, p.HasFill, p.Fill)
		}
		encodeInterp(data, &g, &cfg, s, p.Bound, p.HasFill, p.Fill)
	}
	nverb := len(s.verb) / p.DType.Size()

	body := append(s.body[:0], interpVersion, byte(p.DType), byte(g.nd), 0)
	if cfg.cubic {
		body[3] = 1
	}
	body = append(body, cfg.order[:g.nd]...)
	body = binary.LittleEndian.AppendUint64(body, math.Float64bits(cfg.alpha))
	body = binary.LittleEndian.AppendUint64(body, math.Float64bits(cfg.beta))
	body = binary.LittleEndian.AppendUint64(body, math.Float64bits(p.Bound))
	body = binary.AppendUvarint(body, uint64(n))
	body = binary.AppendUvarint(body, uint64(nverb))
	body, err := huffman.AppendEncode(body, s.codes)
	if err != nil {
		return dst, fmt.Errorf("interp: %w", err)
	}
	body = append(body, s.verb...)
	s.body = body
	return appendBody(dst, body), nil
}

// appendBody appends the storage mode byte and body, compressed with zstd
// when that makes it smaller. The lorenzo payload stores its body the same
// way.
func appendBody(dst, body []byte) []byte {
	start := len(dst)
	if len(body) >= lorenzoMinZstdBody {
		dst = appendZstd(append(dst, lorenzoBodyZstd), body)
		if len(dst)-start <= len(body) {
			return dst
		}
		dst = dst[:start]
	}
	dst = append(dst, lorenzoBodyRaw)
	return append(dst, body...)
}

// readBody returns the body of a payload that appendBody wrote, decoding
// into buf when it is compressed. maxBody caps the body size.
func readBody(buf, payload []byte, maxBody int, name string) ([]byte, error) {
	if len(payload) == 0 {
		return nil, corruptf("empty %s payload", name)
	}
	switch payload[0] {
	case lorenzoBodyRaw:
		body := payload[1:]
		if len(body) > maxBody {
			return nil, corruptf("%s body of %d bytes exceeds the %d bytes the chunk can take", name, len(body), maxBody)
		}
		return body, nil
	case lorenzoBodyZstd:
		body, _, err := readZstd(buf, payload[1:], maxBody)
		return body, err
	}
	return nil, corruptf("unknown %s body storage mode %d", name, payload[0])
}

func (interpCodec) Decode(dst, payload []byte, p Params) error {
	if !p.DType.IsFloat() {
		return corruptf("interp payload for dtype %s, expected f32 or f64", p.DType)
	}
	if !(p.Bound > 0) || math.IsInf(p.Bound, 0) {
		return corruptf("interp payload with bound %v, expected a finite bound greater than 0", p.Bound)
	}
	size := p.DType.Size()
	n := p.Count()
	if n < 1 || n*size != len(dst) {
		return fmt.Errorf("interp: destination has %d bytes, chunk shape %v of %s needs %d", len(dst), p.Shape, p.DType, n*size)
	}
	g := newInterpGeometry(p.Shape)
	s := interpPool.Get().(*interpScratch)
	defer interpPool.Put(s)

	maxBody := interpFixedLen + MaxDims + 2*binary.MaxVarintLen64 + huffmanMaxTableLen + binary.MaxVarintLen64 + 3*n + size*n
	body, err := readBody(s.body, payload, maxBody, "interp")
	if err != nil {
		return err
	}
	if payload[0] == lorenzoBodyZstd {
		s.body = body
	}

	cfg, off, err := parseInterpHeader(body, &g, p)
	if err != nil {
		return err
	}
	count, k := binary.Uvarint(body[off:])
	if k <= 0 || count != uint64(n) {
		return corruptf("interp value count %d (uvarint status %d) does not match shape %v", count, k, p.Shape)
	}
	off += k
	nverb, k := binary.Uvarint(body[off:])
	if k <= 0 || nverb > uint64(n) {
		return corruptf("interp verbatim count %d (uvarint status %d) is invalid for %d values", nverb, k, n)
	}
	off += k

	codes := s.sizeCodes(n)
	used, err := huffman.Decode(codes, body[off:])
	if err != nil {
		return corruptf("interp codes: %v", err)
	}
	off += used
	verb := body[off:]
	if uint64(len(verb)) != nverb*uint64(size) {
		return corruptf("interp verbatim section has %d bytes, %d values of %d bytes expected", len(verb), nverb, size)
	}

	if p.DType == Float32 {
		return decodeInterp(viewAs[float32](dst), &g, &cfg, s, verb, p.Bound, p.HasFill, float32(p.Fill))
	}
	return decodeInterp(viewAs[float64](dst), &g, &cfg, s, verb, p.Bound, p.HasFill, p.Fill)
}

// parseInterpHeader checks the fixed body header against the chunk and
// returns the configuration and the offset after the header.
func parseInterpHeader(body []byte, g *interpGeometry, p Params) (interpConfig, int, error) {
	var cfg interpConfig
	if len(body) < 4 {
		return cfg, 0, corruptf("interp body of %d bytes is shorter than its header", len(body))
	}
	if body[0] != interpVersion {
		return cfg, 0, corruptf("interp payload version %d, this build reads version %d", body[0], interpVersion)
	}
	if DType(body[1]) != p.DType {
		return cfg, 0, corruptf("interp payload holds dtype %s, the header says %s", DType(body[1]), p.DType)
	}
	if int(body[2]) != g.nd {
		return cfg, 0, corruptf("interp payload has %d dimensions, shape %v has %d", body[2], p.Shape, g.nd)
	}
	if body[3] > 1 {
		return cfg, 0, corruptf("unknown interp interpolator %d", body[3])
	}
	cfg.cubic = body[3] == 1
	hlen := interpFixedLen + g.nd
	if len(body) < hlen {
		return cfg, 0, corruptf("interp body of %d bytes is shorter than its %d-byte header", len(body), hlen)
	}
	var seen [MaxDims]bool
	for k := range g.nd {
		d := body[4+k]
		if int(d) >= g.nd || seen[d] {
			return cfg, 0, corruptf("interp dimension order %v is not a permutation of 0..%d", body[4:4+g.nd], g.nd-1)
		}
		seen[d] = true
		cfg.order[k] = d
	}
	off := 4 + g.nd
	cfg.alpha = math.Float64frombits(binary.LittleEndian.Uint64(body[off:]))
	cfg.beta = math.Float64frombits(binary.LittleEndian.Uint64(body[off+8:]))
	if !(cfg.alpha >= 1 && cfg.alpha <= interpMaxAlpha) || !(cfg.beta >= 1 && cfg.beta <= interpMaxBeta) {
		return cfg, 0, corruptf("interp level factors alpha %v, beta %v out of range [1, %d], [1, %d]", cfg.alpha, cfg.beta, interpMaxAlpha, interpMaxBeta)
	}
	if eb := math.Float64frombits(binary.LittleEndian.Uint64(body[off+16:])); eb != p.Bound {
		return cfg, 0, corruptf("interp payload bound %v differs from the header bound %v", eb, p.Bound)
	}
	return cfg, hlen, nil
}

// decodeInterp rebuilds dst from s.codes and the verbatim values in verb.
func decodeInterp[T float](dst []T, g *interpGeometry, cfg *interpConfig, s *interpScratch, verb []byte, eb float64, hasFill bool, fill T) error {
	d := &interpDecoder[T]{
		rec:     dst,
		codes:   s.codes,
		preds:   s.predBuffer(g),
		verb:    verb,
		nverb:   len(verb) / int(unsafe.Sizeof(fill)),
		hasFill: hasFill,
		patches: s.patches[:0],
	}
	d.twoEB, _ = levelBounds(eb, cfg.alpha, cfg.beta, g.levels())
	g.walk(cfg, d.visit)
	s.patches = d.patches
	if d.err != nil {
		return d.err
	}
	if d.vi != d.nverb {
		return corruptf("interp payload has %d verbatim values, the codes use %d", d.nverb, d.vi)
	}

	// Put back the fill and non-finite values that the reconstruction
	// replaced by neutral predictions. Each patch is a position and 0 for
	// the fill value, or 1 + the index of the verbatim value.
	for k := 0; k+1 < len(d.patches); k += 2 {
		i, v := d.patches[k], d.patches[k+1]
		if v == 0 {
			dst[i] = fill
		} else {
			dst[i] = loadRaw[T](verb, int(v-1))
		}
	}
	return nil
}
