package errstat

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompareCountsViolations(t *testing.T) {
	orig := []float64{0, 1, 2, 3, math.NaN(), 9e36}
	dec := []float64{0.05, 1, 2.2, 3, math.NaN(), 9e36}
	fill := 9e36
	s := Compare(orig, dec, 0.1, &fill)
	require.Equal(t, 4, s.Count)
	require.Equal(t, 1, s.Violations)
	require.Equal(t, 2, s.FirstViolation)
	require.InDelta(t, 0.2, s.MaxAbsError, 1e-12)
	require.Equal(t, 0, s.SpecialMismatches)
	require.False(t, s.OK())
	require.ErrorContains(t, s.Err(), "1 values with |x-x'| > 0.1")
}

func TestCompareSpecialValuesExact(t *testing.T) {
	orig := []float32{float32(math.Inf(1)), 1, float32(math.NaN())}
	dec := []float32{float32(math.Inf(1)), 1, 0}
	s := Compare(orig, dec, 0.5, nil)
	require.Equal(t, 1, s.SpecialMismatches)
	require.Equal(t, 0, s.Violations)
}

func TestCompareNaNDecodedForFinite(t *testing.T) {
	s := Compare([]float64{1, 2}, []float64{1, math.NaN()}, 0.5, nil)
	require.Equal(t, 1, s.Violations)
}

func TestPSNR(t *testing.T) {
	require.InDelta(t, 60.0, PSNR(1, 1e-3), 1e-9)
	require.True(t, math.IsInf(PSNR(1, 0), 1))
	s := Compare([]float64{0, 1}, []float64{0, 1}, 0, nil)
	require.True(t, math.IsInf(s.PSNR, 1))
	require.True(t, s.OK())
}
