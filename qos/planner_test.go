package qos

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSearchBound(t *testing.T) {
	// h crosses 0 at lg = -3.3; count the evaluations.
	calls := 0
	h := func(lg float64) float64 { calls++; return 2 * (lg + 3.3) }
	lg, ok := searchBound(h, -1.2, -8, -0.5, true)
	require.True(t, ok)
	require.LessOrEqual(t, h(lg), 0.0)
	require.InDelta(t, -3.3, lg, 0.01)
	require.LessOrEqual(t, calls, 12)

	lg, ok = searchBound(h, -6, -8, -0.5, false)
	require.True(t, ok)
	require.GreaterOrEqual(t, h(lg), 0.0)
	require.InDelta(t, -3.3, lg, 0.01)

	// No root in range: the end nearest to it, and not ok for the side
	// that does not exist.
	lg, ok = searchBound(h, -4, -3, -0.5, true)
	require.False(t, ok)
	require.Equal(t, -3.0, lg)
	lg, ok = searchBound(h, -4, -8, -5, true)
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
