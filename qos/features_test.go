package qos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

func TestSortFloatsMatchesSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 63, 64, 1000, 1024} {
		v := make([]float64, n)
		for i := range v {
			switch i % 5 {
			case 0:
				v[i] = rng.NormFloat64() * 1e-6
			case 1:
				v[i] = math.Copysign(0, -1)
			case 2:
				v[i] = float64(rng.IntN(7) - 3)
			case 3:
				v[i] = math.Inf(1 - 2*rng.IntN(2))
			default:
				v[i] = rng.NormFloat64() * 1e30
			}
		}
		want := slices.Clone(v)
		slices.Sort(want)
		sortFloats(v)
		require.Equal(t, len(want), len(v))
		for i := range v {
			// -0 and 0 compare equal; the radix sort puts -0 first.
			require.True(t, v[i] == want[i], "n=%d index %d: %v, slices.Sort has %v", n, i, v[i], want[i])
		}
	}
}

func TestSortFloatsResidualShapes(t *testing.T) {
	sets := residualSets()
	// Values of float32 origin, which share trailing zero bits, and more
	// values than a sample holds.
	rng := rand.New(rand.NewPCG(11, 12))
	f32 := make([]float64, 3000)
	for i := range f32 {
		f32[i] = float64(float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-8))))
	}
	sets["float32/3000"] = f32
	// A tight cluster with far outliers puts most keys in one top-level
	// bucket, which the sort splits again.
	cluster := make([]float64, 1000)
	for i := range cluster {
		cluster[i] = 1 + 1e-9*rng.Float64()
		if i%50 == 0 {
			cluster[i] = 1e20 * rng.Float64()
		}
	}
	sets["cluster/1000"] = cluster

	for name, v := range sets {
		want := slices.Clone(v)
		slices.Sort(want)
		negZeros := 0
		for _, x := range v {
			if x == 0 && math.Signbit(x) {
				negZeros++
			}
		}

		sortFloats(v)

		require.Len(t, v, len(want), name)
		for i := range v {
			require.True(t, v[i] == want[i], "%s index %d: %v, slices.Sort has %v", name, i, v[i], want[i])
			if v[i] == 0 && math.Signbit(v[i]) {
				negZeros--
			}
		}
		require.Zero(t, negZeros, "%s: -0 values lost or gained", name)
	}
}

// quantStatsReference is the direct computation quantStats must match
// bit for bit: round every residual, and sum p*log2(p) over runs of equal
// bins. The conversions keep products rounded, as on amd64.
func quantStatsReference(r []float64, eb float64) (zero, entropy, mse float64) {
	if len(r) == 0 || !(eb > 0) {
		return 0, 0, 0
	}
	inv := 1 / (2 * eb)
	n := float64(len(r))
	var run, bins int
	var sq float64
	prev := math.NaN()
	flush := func() {
		if run > 0 {
			p := float64(run) / n
			entropy -= float64(p * math.Log2(p))
			bins++
		}
	}
	for _, x := range r {
		q := math.Round(x * inv)
		d := x - float64(q*2*eb)
		sq += float64(d * d)
		if q != prev {
			flush()
			prev, run = q, 0
		}
		run++
		if q == 0 {
			zero++
		}
	}
	flush()
	entropy += float64(bins-1) / (2 * n * math.Ln2)
	return zero / n, entropy, sq / n / (eb * eb)
}

// extEntropyReference is extEntropy on quantStatsReference.
func extEntropyReference(r []float64, eb float64) (zero, entropy, mse float64) {
	zero, entropy, mse = quantStatsReference(r, eb)
	if entropy > 4 {
		z16, h16, _ := quantStatsReference(r, 16*eb)
		entropy = max(entropy, h16+4*(1-z16))
	}
	return zero, entropy, mse
}

// requireSame checks that got equals want bit for bit, NaN matching NaN:
// tree thresholds are input values of training chunks, so a rounding
// difference can change a prediction.
func requireSame(t *testing.T, want, got float64, what string) {
	t.Helper()
	require.True(t, math.Float64bits(got) == math.Float64bits(want) || (math.IsNaN(want) && math.IsNaN(got)),
		"%s: got %v, want %v", what, got, want)
}

// residualSets returns unsorted residual samples of the shapes quantStats
// meets: Gaussian, heavy-tailed, integer-valued with many ties, all equal,
// only negative, only positive, with zeros of both signs, and sizes below
// and at the sample limits.
func residualSets() map[string][]float64 {
	rng := rand.New(rand.NewPCG(3, 4))
	sets := map[string][]float64{}
	for _, n := range []int{1, 2, 5, 63, 64, 257, 1000, maxSample} {
		gauss := make([]float64, n)
		heavy := make([]float64, n)
		ints := make([]float64, n)
		neg := make([]float64, n)
		pos := make([]float64, n)
		zeros := make([]float64, n)
		for i := range n {
			gauss[i] = rng.NormFloat64() * 1e-3
			heavy[i] = rng.NormFloat64() / (rng.Float64() + 1e-3)
			ints[i] = float64(rng.IntN(9) - 4)
			neg[i] = -math.Abs(rng.NormFloat64()) * 10
			pos[i] = math.Abs(rng.NormFloat64()) * 10
			zeros[i] = []float64{0, math.Copysign(0, -1), 1e-9, -1e-9}[rng.IntN(4)]
		}
		same := make([]float64, n)
		for i := range same {
			same[i] = 0.37
		}
		for name, v := range map[string][]float64{"gauss": gauss, "heavy": heavy, "ints": ints, "neg": neg, "pos": pos, "zeros": zeros, "same": same} {
			sets[fmt.Sprintf("%s/%d", name, n)] = v
		}
	}
	return sets
}

// testBounds returns the bounds the quantStats tests try: 1/8 decades from
// 1e-7 to 1e3, exact half-integer bin edges of the integer sets, and
// bounds at which everything falls in bin 0.
func testBounds() []float64 {
	var out []float64
	for k := -56; k <= 24; k++ {
		out = append(out, math.Pow(10, float64(k)/8))
	}
	return append(out, 0.5, 0.25, 1.5, 1e6, 1e300)
}

func TestQuantStatsMatchesReference(t *testing.T) {
	for name, r := range residualSets() {
		slices.Sort(r)
		// One cache of entropy terms across all bounds, as a predictor
		// keeps it; quantBins checks the computation without one.
		terms := new(termCache)
		for _, eb := range testBounds() {
			z0, h0, m0 := quantStatsReference(r, eb)
			z, h, m := quantStats(r, eb, terms)
			requireSame(t, z0, z, fmt.Sprintf("zero share %s eb=%g", name, eb))
			requireSame(t, h0, h, fmt.Sprintf("entropy %s eb=%g", name, eb))
			requireSame(t, m0, m, fmt.Sprintf("mse %s eb=%g", name, eb))
			zb, hb := quantBins(r, eb, nil)
			requireSame(t, z0, zb, fmt.Sprintf("quantBins zero share %s eb=%g", name, eb))
			requireSame(t, h0, hb, fmt.Sprintf("quantBins entropy %s eb=%g", name, eb))

			z0, h0, m0 = extEntropyReference(r, eb)
			z, h, m = extEntropy(r, eb, terms)
			requireSame(t, z0, z, fmt.Sprintf("extEntropy zero share %s eb=%g", name, eb))
			requireSame(t, h0, h, fmt.Sprintf("extEntropy entropy %s eb=%g", name, eb))
			requireSame(t, m0, m, fmt.Sprintf("extEntropy mse %s eb=%g", name, eb))
			zb, hb = extBins(r, eb, terms)
			requireSame(t, z0, zb, fmt.Sprintf("extBins zero share %s eb=%g", name, eb))
			requireSame(t, h0, hb, fmt.Sprintf("extBins entropy %s eb=%g", name, eb))
		}
	}
}

func TestQuantStatsEdgeCases(t *testing.T) {
	// Infinite residuals, bounds whose inverse overflows, and bounds that
	// quantStats rejects behave as in the direct computation.
	r := []float64{math.Inf(-1), -3, math.Copysign(0, -1), 0, 0, 2, math.Inf(1), math.Inf(1)}
	for _, eb := range []float64{0, -1, math.NaN(), math.Inf(1), 1e-320, 5e-324, 0.5, 1e308} {
		z0, h0, m0 := quantStatsReference(r, eb)
		z, h, m := quantStats(r, eb, nil)
		requireSame(t, z0, z, fmt.Sprintf("zero share eb=%g", eb))
		requireSame(t, h0, h, fmt.Sprintf("entropy eb=%g", eb))
		requireSame(t, m0, m, fmt.Sprintf("mse eb=%g", eb))
		zb, hb := quantBins(r, eb, new(termCache))
		requireSame(t, z0, zb, fmt.Sprintf("quantBins zero share eb=%g", eb))
		requireSame(t, h0, hb, fmt.Sprintf("quantBins entropy eb=%g", eb))
	}
	z, h, m := quantStats(nil, 1, nil)
	require.Zero(t, z)
	require.Zero(t, h)
	require.Zero(t, m)
}

// inputsReference computes Inputs from the direct quantStatsReference.
func inputsReference(f *Features, eb, valueRange float64) []float64 {
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
		lo := r[int(float64(len(r)-1)*(1-q)/2)]
		hi := r[int(float64(len(r)-1)*(1+q)/2)]
		return max(math.Abs(lo), math.Abs(hi))
	}
	p0L, hL, mseL := extEntropyReference(f.Lorenzo, eb)
	p0I, hI, _ := extEntropyReference(f.Interp, eb)
	f64 := 0.0
	if f.F64 {
		f64 = 1
	}
	return []float64{
		lr(eb, valueRange), lr(eb, chunkRange),
		lr(eb, absQ(f.Lorenzo, 0.5)), lr(eb, absQ(f.Lorenzo, 0.9)), lr(eb, absQ(f.Lorenzo, 0.99)),
		p0L, hL, mseL,
		lr(eb, absQ(f.Interp, 0.5)), p0I, hI,
		lr(f.Std, valueRange), f.Valid, f.ZeroShare, f.ConstShare, f.Slope,
		math.Log10(float64(max(f.Count, 1))), f64, lr(chunkRange, valueRange),
		f.ssimEstimate(eb, valueRange),
	}
}

// requireInputsMatch checks Inputs against inputsReference bit for bit
// on 1/8 decades of bound from 1e-10 to 10 times valueRange.
func requireInputsMatch(t *testing.T, f *Features, valueRange float64, name string) {
	t.Helper()
	var x, cached []float64
	terms := new([2]termCache)
	for k := -80; k <= 8; k++ {
		eb := valueRange * math.Pow(10, float64(k)/8)
		x = f.Inputs(x, eb, valueRange)
		cached = f.inputs(cached, eb, valueRange, terms)
		want := inputsReference(f, eb, valueRange)
		require.Len(t, x, numInputs)
		require.Len(t, cached, numInputs)
		for i := range want {
			requireSame(t, want[i], x[i], fmt.Sprintf("%s eb=%g input %s", name, eb, inputNames[i]))
			requireSame(t, want[i], cached[i], fmt.Sprintf("%s eb=%g input %s with cached terms", name, eb, inputNames[i]))
		}
	}
}

func TestInputsMatchReferenceSynthetic(t *testing.T) {
	// A smooth field with noise, a field of few integer levels with ties,
	// and a constant field.
	rng := rand.New(rand.NewPCG(5, 6))
	shape := []int{24, 40, 48}
	smooth := make([]float64, 24*40*48)
	levels := make([]float64, len(smooth))
	constant := make([]float64, len(smooth))
	for i := range smooth {
		z, y, x := i/(40*48), i/48%40, i%48
		smooth[i] = math.Sin(float64(x)/7)*math.Cos(float64(y)/5) + float64(z)/24 + 1e-3*rng.NormFloat64()
		levels[i] = float64(rng.IntN(5) - 2)
		constant[i] = -2.5
	}
	for name, vals := range map[string][]float64{"smooth": smooth, "levels": levels, "constant": constant} {
		f := computeFeatures(vals, shape, nil, false)
		requireInputsMatch(t, f, 4, name)
	}
}

func TestInputsMatchReferenceReal(t *testing.T) {
	m := realdata.ForTest(t)
	fields, err := LoadFields(m.Dir)
	require.NoError(t, err)
	for i := range fields {
		fd := &fields[i]
		chunks, err := splitChunks(fd, chunk.DefaultChunkShape(fd.Shape, fd.DType.Size(), 1<<20))
		require.NoError(t, err)
		vals, fill := floatsOf(fd.Raw, fd.DType, fd.Fill)
		lo, hi := valueRange(vals, fill)
		if !(hi > lo) {
			continue
		}
		for j, c := range chunks {
			requireInputsMatch(t, c.Feat, hi-lo, fmt.Sprintf("%s chunk %d", fd.Name, j))
		}
	}
}
