package qos

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSSIMIdenticalAndNoisy(t *testing.T) {
	rows, cols := 20, 30
	x := make([]float64, rows*cols)
	y := make([]float64, rows*cols)
	for i := range x {
		x[i] = math.Sin(float64(i) / 9)
		y[i] = x[i]
		if i%2 == 0 {
			y[i] += 0.3
		}
	}
	require.InDelta(t, 1.0, SSIM(x, x, rows, cols, 2), 1e-12)
	s := SSIM(x, y, rows, cols, 2)
	require.Less(t, s, 0.9)
	require.Greater(t, s, 0.0)
	require.True(t, math.IsNaN(SSIM(x[:36], x[:36], 6, 6, 2)))
}

func TestErrorHistogramBins(t *testing.T) {
	orig := []float64{0, 0, 0, 0, math.NaN(), 5}
	dec := []float64{0, 0.05, 0.95, 2, 1, 5.2}
	fill := 5.0
	// 0 and 0.05 fall in the first bin, 0.95 in the last, 2 above the
	// bound; NaN and the fill value are skipped.
	require.Equal(t, []int{2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, ErrorHistogram(orig, dec, 1, 10, &fill))
}
