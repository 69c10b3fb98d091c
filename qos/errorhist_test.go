package qos

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestErrorHistogramBins(t *testing.T) {
	orig := []float64{0, 0, 0, 0, math.NaN(), 5}
	dec := []float64{0, 0.05, 0.95, 2, 1, 5.2}
	fill := 5.0
	// 0 and 0.05 fall in the first bin, 0.95 in the last, 2 above the
	// bound; NaN and the fill value are skipped.
	require.Equal(t, []int{2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, ErrorHistogram(orig, dec, 1, 10, &fill))
}
