package qos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
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

// quantStatsReference is the direct computation quantStats must match:
// round every residual, and sum p*log2(p) over runs of equal bins.
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
			entropy -= p * math.Log2(p)
			bins++
		}
	}
	for _, x := range r {
		q := math.Round(x * inv)
		d := x - q*2*eb
		sq += d * d
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

// requireClose checks got against want to a relative 1e-12, and exactly
// where want is 0, since a tree threshold at 0 splits 0 from any rounding
// residue.
func requireClose(t *testing.T, want, got float64, what string) {
	t.Helper()
	if want == 0 || math.IsInf(want, 0) || math.IsNaN(want) {
		require.True(t, got == want || (math.IsNaN(want) && math.IsNaN(got)), "%s: got %v, want %v", what, got, want)
		return
	}
	require.InEpsilon(t, want, got, 1e-12, what)
}

// residualSets returns sorted residual samples of the shapes quantStats
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
			sortFloats(v)
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
		for _, eb := range testBounds() {
			z0, h0, m0 := quantStatsReference(r, eb)
			z, h, m := quantStats(r, eb)
			requireClose(t, z0, z, fmt.Sprintf("zero share %s eb=%g", name, eb))
			requireClose(t, h0, h, fmt.Sprintf("entropy %s eb=%g", name, eb))
			requireClose(t, m0, m, fmt.Sprintf("mse %s eb=%g", name, eb))
			zb, hb := quantBins(r, eb)
			requireClose(t, z0, zb, fmt.Sprintf("quantBins zero share %s eb=%g", name, eb))
			requireClose(t, h0, hb, fmt.Sprintf("quantBins entropy %s eb=%g", name, eb))

			z0, h0, m0 = extEntropyReference(r, eb)
			z, h, m = extEntropy(r, eb)
			requireClose(t, z0, z, fmt.Sprintf("extEntropy zero share %s eb=%g", name, eb))
			requireClose(t, h0, h, fmt.Sprintf("extEntropy entropy %s eb=%g", name, eb))
			requireClose(t, m0, m, fmt.Sprintf("extEntropy mse %s eb=%g", name, eb))
			zb, hb = extBins(r, eb)
			requireClose(t, z0, zb, fmt.Sprintf("extBins zero share %s eb=%g", name, eb))
			requireClose(t, h0, hb, fmt.Sprintf("extBins entropy %s eb=%g", name, eb))
		}
	}
}

func TestQuantStatsEdgeCases(t *testing.T) {
	// Infinite residuals, bounds whose inverse overflows, and bounds that
	// quantStats rejects behave as in the direct computation.
	r := []float64{math.Inf(-1), -3, math.Copysign(0, -1), 0, 0, 2, math.Inf(1), math.Inf(1)}
	for _, eb := range []float64{0, -1, math.NaN(), math.Inf(1), 1e-320, 5e-324, 0.5, 1e308} {
		z0, h0, m0 := quantStatsReference(r, eb)
		z, h, m := quantStats(r, eb)
		requireClose(t, z0, z, fmt.Sprintf("zero share eb=%g", eb))
		requireClose(t, h0, h, fmt.Sprintf("entropy eb=%g", eb))
		requireClose(t, m0, m, fmt.Sprintf("mse eb=%g", eb))
		zb, hb := quantBins(r, eb)
		requireClose(t, z0, zb, fmt.Sprintf("quantBins zero share eb=%g", eb))
		requireClose(t, h0, hb, fmt.Sprintf("quantBins entropy eb=%g", eb))
	}
	z, h, m := quantStats(nil, 1)
	require.Zero(t, z)
	require.Zero(t, h)
	require.Zero(t, m)
}
