package qos

import (
	"math"
	"math/bits"
	"slices"
	"sync"

	"github.com/epsilon-db/epsilon/codecs"
)

// Features sample between minSample and maxSample positions of a chunk,
// one in sampleStride of its values, so that their cost stays a small share
// of one compression of the chunk whatever its size.
const (
	minSample    = 256
	maxSample    = 1024
	sampleStride = 64
	sampleRun    = 4
)

// xorshift is the state of a xorshift64 generator. Features use it for a
// sample that depends on nothing but the chunk, so that training and
// planning see the same features for the same values.
type xorshift uint64

// intn returns a pseudo-random integer in [0, n) for n > 0.
func (r *xorshift) intn(n int) int {
	*r ^= *r << 13
	*r ^= *r >> 7
	*r ^= *r << 17
	return int(uint64(*r) % uint64(n))
}

// sampleCount returns the number of positions features sample in a chunk
// of n values.
func sampleCount(n int) int { return max(minSample, min(maxSample, n/sampleStride)) }

// Features describes one chunk. They are computed once from a sample of
// the chunk, and Inputs turns them into model inputs for any bound without
// touching the chunk again.
type Features struct {
	// Count is the number of values in the chunk; Valid the share of the
	// sampled values that are finite and not the fill value.
	Count int
	Valid float64
	// Lo and Hi are the min and max of the sampled valid values.
	Lo, Hi float64
	// Std is the standard deviation of the sampled valid values.
	Std float64
	// ZeroShare is the share of sampled values that are exactly 0, and
	// ConstShare the share whose Lorenzo neighbourhood is constant.
	ConstShare, ZeroShare float64
	// Slope is log2 of the ratio of mean |lag-2| to mean |lag-1|
	// differences along the fastest dimension: about 1 for smooth fields,
	// 0 for noise.
	Slope float64
	// F64 is set for float64 chunks.
	F64 bool
	// Lorenzo holds the sorted Lorenzo prediction residuals of the sample,
	// predicted from original values; Interp the sorted residuals of
	// linear interpolation between the two neighbours along the fastest
	// dimension.
	Lorenzo, Interp []float64
	// touched keeps the sum of the prefetched values, so that the compiler
	// keeps their loads.
	touched float64
	// WindowVar holds the sample variances of randomly placed SSIM windows
	// in the 2-D slices along the two fastest dimensions. It is empty
	// until addWindows fills it.
	WindowVar []float64
}

// SSIM windows sampled per chunk: one per windowStride values, between
// minWindows and maxWindows. The mean of 1/(2 var + mse + C2) over windows is
// heavy-tailed, so it takes hundreds of windows to estimate.
const (
	minWindows   = 64
	maxWindows   = 1024
	windowStride = 64
)

// Empty reports whether the sample holds no valid value.
func (f *Features) Empty() bool { return f.Valid == 0 || f.Lo > f.Hi }

// computeFeatures samples the chunk vals of the given shape. fill, when not
// nil, is compared in the chunk's precision. It reads only the sampled
// positions, their neighbours and the sampled windows.
func computeFeatures(vals []float64, shape []int, fill *float64, f64 bool) *Features {
	f := &Features{Count: len(vals), F64: f64, Lo: math.Inf(1), Hi: math.Inf(-1)}
	if len(vals) == 0 {
		return f
	}
	hasFill, fv := fill != nil, 0.0
	if hasFill {
		fv = *fill
	}

	// The predictor geometry follows the lorenzo codec: size-1 dimensions
	// dropped, the last three kept as predictor dimensions.
	var dims []int
	for _, d := range shape {
		if d > 1 {
			dims = append(dims, d)
		}
	}
	if len(dims) == 0 {
		dims = []int{1}
	}
	strides := make([]int, len(dims))
	s := 1
	for i := len(dims) - 1; i >= 0; i-- {
		strides[i] = s
		s *= dims[i]
	}
	pred := min(len(dims), 3)
	if dims[0] == 1 {
		// A single value has no neighbour to predict from.
		pred = 0
	}
	first := len(dims) - pred
	cols := dims[len(dims)-1]
	// The Lorenzo neighbours as offsets and signs, in the codec's order.
	var offs [7]int
	var signs [7]float64
	nOff := 0
	for mask := 1; mask < 1<<pred; mask++ {
		off, sign := 0, -1.0
		for b := range pred {
			if mask&(1<<b) != 0 {
				off += strides[first+b]
				sign = -sign
			}
		}
		offs[nOff], signs[nOff] = off, sign
		nOff++
	}

	rng := xorshift(0x9e3779b97f4a7c15)
	next := rng.intn
	samples := sampleCount(len(vals))
	f.Lorenzo = make([]float64, 0, samples)
	f.Interp = make([]float64, 0, samples)
	idx := make([]int, len(dims))
	var sum, sumSq, lag1, lag2 float64
	var n, consts, zeros int
	// Positions come in runs of up to sampleRun consecutive values along
	// the fastest dimension, so that a run and its neighbours share cache
	// lines: random single positions each cost several cache misses.
	type sampleRunAt struct{ at, c0, run int }
	runs := make([]sampleRunAt, 0, samples/sampleRun+1)
	last := len(dims) - 1
	// A run starts at a corner: an index of at least 1 along every
	// predictor dimension, so that the Lorenzo neighbours exist, and room
	// for the run along the last. The corners, in C order, are cut into
	// as many equal strata as there are runs, and each run starts at a
	// random corner of its stratum: the sample covers the chunk evenly
	// and is read in address order.
	lows := make([]int, len(dims))
	extents := make([]int, len(dims))
	for d := range dims {
		if d >= first && dims[d] > 1 {
			lows[d] = 1
		}
		extents[d] = max(dims[d]-lows[d], 1)
	}
	fullRun := min(sampleRun, extents[last])
	extents[last] = max(extents[last]-fullRun+1, 1)
	corners := 1
	for _, e := range extents {
		corners *= e
	}
	nRuns := (samples + fullRun - 1) / fullRun
	for k := range nRuns {
		lo, hi := k*corners/nRuns, (k+1)*corners/nRuns
		p := lo + next(max(hi-lo, 1))
		at := 0
		for d := last; d >= 0; d-- {
			idx[d] = lows[d] + p%extents[d]
			p /= extents[d]
			at += idx[d] * strides[d]
		}
		run := min(fullRun, samples-k*fullRun)
		runs = append(runs, sampleRunAt{at, idx[last], run})
	}
	// Load the first value of every run and its Lorenzo neighbours before
	// the loop that uses them: these loads do not depend on each other, so
	// their cache misses overlap, where the loop below would wait for each.
	var touch float64
	for _, r := range runs {
		touch += vals[r.at]
		for k := range nOff {
			touch += vals[r.at-offs[k]]
		}
	}
	f.touched = touch
	for _, sr := range runs {
		at, c0, run := sr.at, sr.c0, sr.run
		for c := c0; c < c0+run; c, at = c+1, at+1 {
			x := vals[at]
			if x-x != 0 || (hasFill && x == fv) {
				continue
			}
			n++
			sum += x
			sumSq += x * x
			f.Lo, f.Hi = min(f.Lo, x), max(f.Hi, x)
			if x == 0 {
				zeros++
			}
			// Lorenzo: inclusion-exclusion over the predictor dimensions.
			p, ok, allSame := 0.0, true, true
			for k := range nOff {
				v := vals[at-offs[k]]
				if v-v != 0 || (hasFill && v == fv) {
					ok = false
					break
				}
				allSame = allSame && v == x
				p += signs[k] * v
			}
			if ok {
				f.Lorenzo = append(f.Lorenzo, x-p)
				if allSame {
					consts++
				}
			}
			if c >= 1 && c+1 < cols {
				l, r := vals[at-1], vals[at+1]
				if l-l == 0 && r-r == 0 && (!hasFill || (l != fv && r != fv)) {
					f.Interp = append(f.Interp, x-(l+r)/2)
					lag1 += math.Abs(x - l)
					if c >= 2 {
						if l2 := vals[at-2]; l2-l2 == 0 && (!hasFill || l2 != fv) {
							lag2 += math.Abs(x - l2)
						}
					}
				}
			}
		}
	}
	f.Valid = float64(n) / float64(samples)
	if n == 0 {
		return f
	}
	mean := sum / float64(n)
	f.Std = math.Sqrt(max(sumSq/float64(n)-mean*mean, 0))
	f.ConstShare = float64(consts) / float64(n)
	f.ZeroShare = float64(zeros) / float64(n)
	if lag1 > 0 && lag2 > 0 {
		f.Slope = math.Log2(lag2 / lag1)
	}
	sortFloats(f.Lorenzo)
	sortFloats(f.Interp)
	return f
}

// addWindows fills WindowVar from randomly placed SSIM windows of the chunk
// vals of the given shape that hold only valid values. Only SSIM
// predictions read WindowVar, so plans for other metrics skip it.
func (f *Features) addWindows(vals []float64, shape []int, fill *float64) {
	f.WindowVar = f.WindowVar[:0]
	if len(shape) < 2 || len(vals) == 0 {
		return
	}
	hasFill, fv := fill != nil, 0.0
	if hasFill {
		fv = *fill
	}
	rng := xorshift(0x2545f4914f6cdd1d)
	next := rng.intn
	rows, cols := shape[len(shape)-2], shape[len(shape)-1]
	w := min(SSIMWindow, rows, cols)
	if w < 2 {
		return
	}
	// Window corners are stratified: the corner positions, in C order,
	// are cut into as many equal strata as there are windows, and each
	// window takes a random corner in its stratum. The windows then cover
	// the chunk evenly and come in increasing address order, which the
	// hardware prefetcher follows.
	slices := len(vals) / (rows * cols)
	wr, wc := rows-w+1, cols-w+1
	corners := slices * wr * wc
	windows := min(max(minWindows, min(maxWindows, len(vals)/windowStride)), corners)
	for k := range windows {
		lo, hi := k*corners/windows, (k+1)*corners/windows
		p := lo + next(max(hi-lo, 1))
		base := (p/(wr*wc))*rows*cols + (p/wc%wr)*cols + p%wc
		var sum, sq float64
		ok := true
		if hasFill {
			for i := 0; i < w && ok; i++ {
				for _, v := range vals[base+i*cols : base+i*cols+w] {
					if v-v != 0 || v == fv {
						ok = false
						break
					}
					sum += v
					sq += v * v
				}
			}
		} else {
			// NaN and infinities carry through the sums, so one check
			// at the end finds them.
			for i := range w {
				for _, v := range vals[base+i*cols : base+i*cols+w] {
					sum += v
					sq += v * v
				}
			}
			ok = sum-sum == 0 && sq-sq == 0
		}
		if ok {
			n := float64(w * w)
			mean := sum / n
			f.WindowVar = append(f.WindowVar, max(sq/n-mean*mean, 0)*n/(n-1))
		}
	}
}

// numInputs is the length of the vector Inputs returns.
const numInputs = 20

// ssimInput is the index of the SSIM deficit estimate in Inputs, and
// noSSIMEstimate its value for features without SSIM windows. The squared
// error and size ensembles are fit and evaluated with the input set to
// noSSIMEstimate, so that plans for other metrics need not sample windows.
const (
	ssimInput      = 19
	noSSIMEstimate = -12
)

// withoutSSIM returns a copy of the inputs x with the SSIM estimate set to
// noSSIMEstimate.
func withoutSSIM(x []float64) []float64 {
	y := slices.Clone(x)
	y[ssimInput] = noSSIMEstimate
	return y
}

// inputNames names the model inputs, in order, for reports.
var inputNames = [numInputs]string{
	"log10(eb/range)", "log10(eb/chunk_range)", "log10(eb/lorenzo_q50)", "log10(eb/lorenzo_q90)",
	"log10(eb/lorenzo_q99)", "lorenzo_zero_share", "lorenzo_entropy_ext", "lorenzo_open_mse",
	"log10(eb/interp_q50)", "interp_zero_share", "interp_entropy_ext", "log10(std/range)",
	"valid_share", "zero_share", "const_share", "slope", "log10(count)", "float64", "log10(chunk_range/range)",
	"log10(ssim_deficit_estimate)",
}

// Inputs returns the model inputs of the chunk for absolute bound eb on an
// array of value range valueRange.
func (f *Features) Inputs(dst []float64, eb, valueRange float64) []float64 {
	return f.inputs(dst, eb, valueRange, nil)
}

// inputs is Inputs with the entropy terms of the Lorenzo and the interp
// residuals cached in terms across calls. With terms nil, the cache lasts
// this call.
func (f *Features) inputs(dst []float64, eb, valueRange float64, terms *[2]termCache) []float64 {
	if terms == nil {
		terms = new([2]termCache)
	}
	dst = dst[:0]
	lr := func(a, b float64) float64 {
		if !(b > 0) {
			return 12
		}
		return max(-12, min(12, math.Log10(a/b)))
	}
	chunkRange := f.Hi - f.Lo
	absQ := func(r []float64, q float64) float64 {
		if len(r) == 0 {
			return 0
		}
		// Residuals are sorted by signed value, so take quantiles of |r|
		// from a copy-free estimate: the larger tail of both ends.
		lo := r[int(float64(len(r)-1)*(1-q)/2)]
		hi := r[int(float64(len(r)-1)*(1+q)/2)]
		return max(math.Abs(lo), math.Abs(hi))
	}
	p0L, hL, mseL := extEntropy(f.Lorenzo, eb, &terms[0])
	p0I, hI := extBins(f.Interp, eb, &terms[1])
	f64 := 0.0
	if f.F64 {
		f64 = 1
	}
	dst = append(dst,
		lr(eb, valueRange), lr(eb, chunkRange),
		lr(eb, absQ(f.Lorenzo, 0.5)), lr(eb, absQ(f.Lorenzo, 0.9)), lr(eb, absQ(f.Lorenzo, 0.99)),
		p0L, hL, mseL,
		lr(eb, absQ(f.Interp, 0.5)), p0I, hI,
		lr(f.Std, valueRange), f.Valid, f.ZeroShare, f.ConstShare, f.Slope,
		math.Log10(float64(max(f.Count, 1))), f64, lr(chunkRange, valueRange),
		f.ssimEstimate(eb, valueRange),
	)
	return dst
}

// quantStats quantizes the sorted residuals r with bins of 2 eb, as the
// lorenzo codec does, and returns the share in bin 0, the entropy of the
// bins in bits with the Miller-Madow correction for the bins a sample of
// len(r) misses, and the mean squared quantization error over eb^2.
//
// Since r is sorted, every bin is a run of adjacent values: the loop rounds
// only the first value of a run and finds the run's end by comparing each
// value with the bin's upper edge.
func quantStats(r []float64, eb float64, terms *termCache) (zero, entropy, mse float64) {
	if len(r) == 0 || !(eb > 0) {
		return 0, 0, 0
	}
	inv := 1 / (2 * eb)
	h := binEntropy{n: float64(len(r)), terms: terms}
	var sq float64
	var zeros int
	for i := 0; i < len(r); {
		x := r[i]
		q := math.Round(x * inv)
		// The conversions keep each product rounded, as in the direct
		// computation, on platforms that fuse multiply and add.
		c := float64(q * 2 * eb)
		d := x - c
		sq += float64(d * d)
		j := i + 1
		for ; j < len(r); j++ {
			x := r[j]
			if !inBin(x*inv, q) {
				break
			}
			d := x - c
			sq += float64(d * d)
		}
		h.add(j - i)
		if q == 0 {
			zeros = j - i
		}
		i = j
	}
	n := float64(len(r))
	return float64(zeros) / n, h.entropy(), sq / n / (eb * eb)
}

// quantBins returns the share in bin 0 and the entropy of quantStats
// without the squared error. It finds the end of each run by an
// exponential and then a binary search, so that it costs a few
// comparisons per bin instead of one per value.
func quantBins(r []float64, eb float64, terms *termCache) (zero, entropy float64) {
	if len(r) == 0 || !(eb > 0) {
		return 0, 0
	}
	inv := 1 / (2 * eb)
	h := binEntropy{n: float64(len(r)), terms: terms}
	var zeros int
	for i := 0; i < len(r); {
		q := math.Round(r[i] * inv)
		// r[lo] is in the bin; r[hi] is not, or hi is len(r).
		lo, hi := i, i+1
		for step := 1; hi < len(r) && inBin(r[hi]*inv, q); step *= 2 {
			lo, hi = hi, hi+step
		}
		hi = min(hi, len(r))
		for hi-lo > 1 {
			m := int(uint(lo+hi) >> 1)
			if inBin(r[m]*inv, q) {
				lo = m
			} else {
				hi = m
			}
		}
		h.add(hi - i)
		if q == 0 {
			zeros = hi - i
		}
		i = hi
	}
	return float64(zeros) / float64(len(r)), h.entropy()
}

// inBin reports whether math.Round(y) equals q, for y not below a value
// that rounds to q. Values below the edge q+0.5 round to q, and values
// above it do not. The edge itself rounds to q only where it is negative,
// because math.Round rounds half away from zero.
func inBin(y, q float64) bool {
	edge := q + 0.5
	return y < edge || (y == edge && math.Round(y) == q)
}

// binEntropy sums the entropy of bin counts over n values, in bits, as
// the direct sum of -p*log2(p) over the bins in order. The model's tree
// thresholds are input values of training chunks, and the entropy depends
// only on the counts, so other chunks meet those values exactly: the sum
// must round as the training did, not merely be close.
type binEntropy struct {
	n     float64
	sum   float64
	bins  int
	terms *termCache
}

// termCache caches p*log2(p) of the counts below its length for one
// number of values, 0 where not computed yet. A nil cache computes every
// term.
type termCache [64]float64

// add adds a bin of count c.
func (e *binEntropy) add(c int) {
	var t float64
	cached := e.terms != nil && c < len(e.terms)
	if cached {
		t = e.terms[c]
	}
	if t == 0 {
		p := float64(c) / e.n
		// The conversion keeps the product rounded on platforms that
		// fuse multiply and subtract.
		t = float64(p * math.Log2(p))
		if cached {
			e.terms[c] = t
		}
	}
	e.sum -= t
	e.bins++
}

// entropy returns the entropy with the Miller-Madow correction for the
// bins a sample of n values misses.
func (e *binEntropy) entropy() float64 {
	return e.sum + float64(e.bins-1)/(2*e.n*math.Ln2)
}

// extEntropy is quantStats with the entropy extended past what the sample
// resolves: where bins of 2 eb hold few samples each, the entropy at
// 16 eb plus 4 bits for each value outside bin 0 there estimates it better,
// since halving the bin adds one bit to every value that is not in bin 0.
func extEntropy(r []float64, eb float64, terms *termCache) (zero, entropy, mse float64) {
	zero, entropy, mse = quantStats(r, eb, terms)
	return zero, extend(r, eb, entropy, terms), mse
}

// extBins is extEntropy without the squared error.
func extBins(r []float64, eb float64, terms *termCache) (zero, entropy float64) {
	zero, entropy = quantBins(r, eb, terms)
	return zero, extend(r, eb, entropy, terms)
}

// extend returns the extended entropy of r at eb from its entropy there.
func extend(r []float64, eb, entropy float64, terms *termCache) float64 {
	if entropy > 4 {
		z16, h16 := quantBins(r, 16*eb, terms)
		entropy = max(entropy, h16+4*(1-z16))
	}
	return entropy
}

// floatsOf converts raw little-endian values of a float dtype to float64.
// The fill value, when set, is converted to the dtype and back so that it
// compares equal to the converted values.
func floatsOf(raw []byte, dt codecs.DType, fill *float64) ([]float64, *float64) {
	var out []float64
	switch dt {
	case codecs.Float32:
		out = make([]float64, len(raw)/4)
		for i := range out {
			b := raw[4*i:]
			out[i] = float64(math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24))
		}
		if fill != nil {
			v := float64(float32(*fill))
			fill = &v
		}
	case codecs.Float64:
		out = make([]float64, len(raw)/8)
		for i := range out {
			b := raw[8*i:]
			out[i] = math.Float64frombits(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
				uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56)
		}
	}
	return out, fill
}

// ssimEstimate returns log10 of the SSIM deficit that errors uniform in
// [-eb, eb] cause in the sampled windows: for errors independent of the
// values, 1 - SSIM of a window is about mse / (2 var + mse + C2). Without
// sampled windows it returns noSSIMEstimate.
func (f *Features) ssimEstimate(eb, valueRange float64) float64 {
	if len(f.WindowVar) == 0 || !(valueRange > 0) {
		return noSSIMEstimate
	}
	c2 := (0.03 * valueRange) * (0.03 * valueRange)
	mse := eb * eb / 3
	var sum float64
	for _, v := range f.WindowVar {
		sum += 1 / (2*v + c2 + mse)
	}
	d := mse * sum / float64(len(f.WindowVar))
	if !(d > 0) {
		return -12
	}
	return max(-12, min(12, math.Log10(d)))
}

// sortFloats sorts v ascending by a most-significant-digit radix sort on
// integer keys in the order of the values, which for the up to maxSample
// residuals of a chunk takes a fraction of a comparison sort's time. v
// holds no NaN. -0 and 0 compare equal and come in either order.
func sortFloats(v []float64) {
	if len(v) < 64 {
		slices.Sort(v)
		return
	}
	s := sorters.Get().(*sorter)
	defer sorters.Put(s)
	if cap(s.keys) < 2*len(v) {
		s.keys = make([]uint64, 2*len(v))
	}
	const sign = 1 << 63
	a, tmp := s.keys[:len(v)], s.keys[len(v):2*len(v)]
	// Negative values, -0 included, fill a from the front with key -bits
	// (mod 2^64), and the others fill it from the back with bits + 2^63,
	// so keys rise with the values on each side. Each side sorts alone:
	// their keys span far less than the gap between them. Both stores go
	// to free slots, and the side is chosen by arithmetic, not by a branch
	// on the random sign.
	neg, pos := 0, len(v)
	for _, x := range v {
		k := math.Float64bits(x)
		isNeg := int(k >> 63)
		mask := -(k >> 63)
		key := -k&mask | (k^sign)&^mask
		a[pos-1] = key
		a[neg] = key
		neg += isNeg
		pos -= 1 - isNeg
	}
	s.sort(a[:neg], tmp[:neg], 0)
	s.sort(a[neg:], tmp[neg:], 0)
	for i, k := range tmp[:neg] {
		v[i] = math.Float64frombits(-k)
	}
	for i, k := range tmp[neg:] {
		v[neg+i] = math.Float64frombits(k ^ sign)
	}
}

// sorter holds the scratch space of sortFloats: the keys and a copy, and
// the bucket counts of each level of the key sort.
type sorter struct {
	keys   []uint64
	counts [][]int32
}

var sorters = sync.Pool{New: func() any { return new(sorter) }}

// maxDigit is the largest digit, in bits, that the key sort distributes by.
const maxDigit = 10

// sort sorts the keys of src into dst, of the same length, and may change
// src. It distributes the keys into buckets by the top bits of their
// offset from the smallest key, about one bucket per key, and sorts each
// bucket the same way, or by insertion when it is small. A bucket's keys
// differ only in the bits below the digit, so every level narrows them.
func (s *sorter) sort(src, dst []uint64, level int) {
	if len(src) <= 16 {
		copy(dst, src)
		insertionSort(dst)
		return
	}

	lo, hi := src[0], src[0]
	for _, k := range src[1:] {
		lo, hi = min(lo, k), max(hi, k)
	}
	if lo == hi {
		copy(dst, src)
		return
	}

	width := bits.Len64(hi - lo)
	digit := min(width, maxDigit, bits.Len(uint(len(src)))-1)
	shift := width - digit
	if len(s.counts) <= level {
		s.counts = append(s.counts, make([]int32, 1<<maxDigit+1))
	}
	c := s.counts[level][:1<<digit+1]
	clear(c)
	for _, k := range src {
		c[(k-lo)>>shift+1]++
	}
	for i := 1; i < len(c); i++ {
		c[i] += c[i-1]
	}
	// c[d] is now the start of bucket d; the scatter moves it to the end.
	for _, k := range src {
		d := (k - lo) >> shift
		dst[c[d]] = k
		c[d]++
	}

	start := int32(0)
	for _, end := range c[:len(c)-1] {
		switch n := end - start; {
		case n > 16:
			// The next level sorts the bucket back into src.
			s.sort(dst[start:end], src[start:end], level+1)
			copy(dst[start:end], src[start:end])
		case n > 1:
			insertionSort(dst[start:end])
		}
		start = end
	}
}

// insertionSort sorts the few keys of a.
func insertionSort(a []uint64) {
	for i := 1; i < len(a); i++ {
		k := a[i]
		j := i
		for ; j > 0 && a[j-1] > k; j-- {
			a[j] = a[j-1]
		}
		a[j] = k
	}
}
