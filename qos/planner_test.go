package qos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSearchBound(t *testing.T) {
	// h crosses 0 at lg = -3.3; count the evaluations.
	calls := 0
	h := func(lg float64) float64 { calls++; return 2 * (lg + 3.3) }
	lg, ok := searchBound(h, -1.2, -8, -0.5, 2, true)
	require.True(t, ok)
	require.LessOrEqual(t, h(lg), 0.0)
	require.InDelta(t, -3.3, lg, 0.01)
	require.LessOrEqual(t, calls, 12)

	lg, ok = searchBound(h, -6, -8, -0.5, 2, false)
	require.True(t, ok)
	require.GreaterOrEqual(t, h(lg), 0.0)
	require.InDelta(t, -3.3, lg, 0.01)

	// No root in range: the end nearest to it, and not ok for the side
	// that does not exist.
	lg, ok = searchBound(h, -4, -3, -0.5, 2, true)
	require.False(t, ok)
	require.Equal(t, -3.0, lg)
	lg, ok = searchBound(h, -4, -8, -5, 2, true)
	require.True(t, ok)
	require.Equal(t, -5.0, lg)
}

func TestQuantileOf(t *testing.T) {
	qs := make([]float64, calibrationSteps)
	for i := range qs {
		qs[i] = float64(i)
	}
	require.InDelta(t, 0.0, quantileOf(qs, 0), 1e-12)
	require.InDelta(t, 20.0, quantileOf(qs, 1), 1e-12)
	require.InDelta(t, 18.0, quantileOf(qs, 0.9), 1e-12)
	require.InDelta(t, 18.5, quantileOf(qs, 0.925), 1e-12)
	require.Equal(t, 0.0, quantileOf(nil, 0.9))
	require.False(t, math.IsNaN(quantileOf(qs, math.NaN())))
}

// searchBoundReference is the search by half-decade bracketing and
// bisection on the lattice that searchBound must match for increasing h.
func searchBoundReference(h func(float64) float64, start, lo, hi float64, below bool) (float64, bool) {
	const step = 1.0 / latticePerDecade
	snap := func(lg float64) float64 { return math.Round(lg*latticePerDecade) / latticePerDecade }
	a := max(lo, min(hi, snap(start)))
	ha := h(a)
	b, hb := a, ha
	for ha > 0 {
		if a <= lo {
			return lo, !below
		}
		b, hb = a, ha
		a = max(lo, a-0.5)
		ha = h(a)
	}
	for hb <= 0 {
		if b >= hi {
			return hi, below
		}
		a, ha = b, hb
		b = min(hi, b+0.5)
		hb = h(b)
	}
	for b-a > 1.5*step {
		m := snap((a + b) / 2)
		if m <= a || m >= b {
			break
		}
		if hm := h(m); hm <= 0 {
			a, ha = m, hm
		} else {
			b, hb = m, hm
		}
	}
	side := 0
	for range 12 {
		if b-a < 0.01 || (ha > -0.002 && below) || (hb < 0.002 && !below) {
			break
		}
		m := a - ha*(b-a)/(hb-ha)
		m = max(a+0.1*(b-a), min(b-0.1*(b-a), m))
		hm := h(m)
		if hm <= 0 {
			a, ha = m, hm
			if side == -1 {
				hb /= 2
			}
			side = -1
		} else {
			b, hb = m, hm
			if side == 1 {
				ha /= 2
			}
			side = 1
		}
	}
	if below {
		return a, true
	}
	return b, true
}

// latticeFunc is an increasing function known at lattice points and
// interpolated linearly between them, as the predictor's outputs are. It
// counts the lattice points it evaluates.
type latticeFunc struct {
	value func(k int) float64
	seen  map[int]bool
}

func (f *latticeFunc) at(k int) float64 {
	f.seen[k] = true
	return f.value(k)
}

func (f *latticeFunc) h(lg float64) float64 {
	t := lg * latticePerDecade
	k := int(math.Floor(t))
	a := t - float64(k)
	if a == 0 {
		return f.at(k)
	}
	return f.at(k) + a*(f.at(k+1)-f.at(k))
}

// randomLatticeValues returns an increasing function of the lattice index
// that rises about 2 ln 10 per decade, as ln cost does, with local slopes
// from 0.1 to 3 times that, and crosses 0 at lg = cross.
func randomLatticeValues(rng *rand.Rand, cross float64) func(k int) float64 {
	const first = -20 * latticePerDecade
	values := make([]float64, 40*latticePerDecade)
	for i := 1; i < len(values); i++ {
		values[i] = values[i-1] + 2*math.Ln10/latticePerDecade*math.Exp(rng.Float64()*3.4-2.3)
	}
	f := &latticeFunc{value: func(k int) float64 { return values[k-first] }, seen: map[int]bool{}}
	offset := f.h(cross)
	return func(k int) float64 { return values[k-first] - offset }
}

func TestSearchBoundMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var evals, refEvals int
	for trial := range 2000 {
		cross := -9 + 10*rng.Float64()
		value := randomLatticeValues(rng, cross)
		// Range ends on the lattice, as when the value range is a power of
		// ten, and the crossing anywhere in or out of the range.
		hi := math.Round(rng.Float64()*3*latticePerDecade)/latticePerDecade - 0.5
		lo := hi - 7
		start := hi - 7*rng.Float64()
		below := trial%2 == 0
		f := &latticeFunc{value: value, seen: map[int]bool{}}
		lg, ok := searchBound(f.h, start, lo, hi, 2*math.Ln10, below)
		ref := &latticeFunc{value: value, seen: map[int]bool{}}
		refLg, refOK := searchBoundReference(ref.h, start, lo, hi, below)
		msg := fmt.Sprintf("trial %d: crossing %v in [%v, %v] from %v", trial, cross, lo, hi, start)
		require.Equal(t, refOK, ok, msg)
		require.Equal(t, refLg, lg, msg)
		evals += len(f.seen)
		refEvals += len(ref.seen)
	}
	t.Logf("lattice points evaluated: %d, by half-decade bisection %d", evals, refEvals)
	require.Less(t, evals, refEvals)
}

func TestSearchBoundOffLatticeRange(t *testing.T) {
	// Range ends off the lattice: the result lies on the requested side
	// of the crossing and within 0.01 decade of it, or at the range end
	// nearest to a crossing outside the range.
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 2000 {
		cross := -9 + 10*rng.Float64()
		f := &latticeFunc{value: randomLatticeValues(rng, cross), seen: map[int]bool{}}
		hi := 3*rng.Float64() - 0.5
		lo := hi - 7
		start := hi - 7*rng.Float64()
		below := trial%2 == 0
		lg, ok := searchBound(f.h, start, lo, hi, 2*math.Ln10, below)
		msg := fmt.Sprintf("trial %d: crossing %v in [%v, %v] from %v", trial, cross, lo, hi, start)
		switch {
		case cross < lo:
			require.Equal(t, lo, lg, msg)
			require.Equal(t, !below, ok, msg)
		case cross > hi:
			require.Equal(t, hi, lg, msg)
			require.Equal(t, below, ok, msg)
		default:
			require.True(t, ok, msg)
			require.InDelta(t, cross, lg, 0.01, msg)
			if below {
				require.LessOrEqual(t, f.h(lg), 0.0, msg)
			} else {
				require.GreaterOrEqual(t, f.h(lg), 0.0, msg)
			}
		}
	}
}
