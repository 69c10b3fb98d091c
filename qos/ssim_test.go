package qos

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// ssimNaive computes SSIM2D window by window from the definition.
func ssimNaive(orig, dec []float64, rows, cols int, L float64) float64 {
	w := min(SSIMWindow, rows, cols)
	c1, c2 := (0.01*L)*(0.01*L), (0.03*L)*(0.03*L)
	np := float64(w * w)
	var sum float64
	var n int
	for r := 0; r+w <= rows; r++ {
		for c := 0; c+w <= cols; c++ {
			var mx, my float64
			for i := range w {
				for j := range w {
					mx += orig[(r+i)*cols+c+j]
					my += dec[(r+i)*cols+c+j]
				}
			}
			mx /= np
			my /= np
			var vx, vy, vxy float64
			for i := range w {
				for j := range w {
					a, b := orig[(r+i)*cols+c+j]-mx, dec[(r+i)*cols+c+j]-my
					vx += a * a
					vy += b * b
					vxy += a * b
				}
			}
			vx /= np - 1
			vy /= np - 1
			vxy /= np - 1
			sum += (2*mx*my + c1) * (2*vxy + c2) / ((mx*mx + my*my + c1) * (vx + vy + c2))
			n++
		}
	}
	return sum / float64(n)
}

func TestSSIM2DMatchesNaive(t *testing.T) {
	seed := uint64(42)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, sh := range [][2]int{{20, 30}, {7, 7}, {5, 40}, {64, 9}} {
		rows, cols := sh[0], sh[1]
		orig := make([]float64, rows*cols)
		dec := make([]float64, rows*cols)
		for i := range orig {
			orig[i] = 300 + 10*math.Sin(float64(i)/7) + rng.NormFloat64()
			dec[i] = orig[i] + 0.3*rng.NormFloat64()
		}
		got, err := SSIM2D(orig, dec, []int{rows, cols}, 40, nil)
		require.NoError(t, err)
		require.InDelta(t, ssimNaive(orig, dec, rows, cols, 40), got, 1e-9, "shape %v", sh)
	}
}

func TestSSIM2DSlicesAveraged(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	orig := make([]float32, 3*16*16)
	dec := make([]float32, len(orig))
	for i := range orig {
		orig[i] = float32(rng.Float64())
		dec[i] = orig[i]
		if i >= 2*256 { // only the last slice is changed
			dec[i] += float32(0.2 * rng.NormFloat64())
		}
	}
	all, err := SSIM2D(orig, dec, []int{3, 16, 16}, 1, nil)
	require.NoError(t, err)
	last, err := SSIM2D(orig[512:], dec[512:], []int{16, 16}, 1, nil)
	require.NoError(t, err)
	require.Less(t, last, 0.99)
	require.InDelta(t, (2+last)/3, all, 1e-12)
}

func TestSSIM2DIdenticalIsOne(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	s, err := SSIM2D(v, v, []int{3, 4}, 11, nil)
	require.NoError(t, err)
	require.InDelta(t, 1, s, 1e-12)
}

func TestSSIM2DSkipsFillWindows(t *testing.T) {
	orig := make([]float64, 10*20)
	dec := make([]float64, len(orig))
	for i := range orig {
		orig[i] = float64(i % 13)
		dec[i] = orig[i]
	}
	fill := -999.0
	// A fill value in the left half, with garbage decoded next to it that
	// only windows over the fill value see.
	orig[5*20+3] = fill
	dec[5*20+3] = 12345
	s, err := SSIM2D(orig, dec, []int{10, 20}, 12, &fill)
	require.NoError(t, err)
	require.InDelta(t, 1, s, 1e-12)
}

func TestSSIM2DRejects(t *testing.T) {
	_, err := SSIM2D([]float64{1, 2}, []float64{1, 2}, []int{2}, 1, nil)
	require.ErrorContains(t, err, "at least 2")
	_, err = SSIM2D([]float64{1, 2}, []float64{1}, []int{1, 2}, 1, nil)
	require.ErrorContains(t, err, "got 2 original and 1 decoded")
	_, err = SSIM2D([]float64{1, 2, 3, 4}, []float64{1, 2, 3, 4}, []int{2, 2}, 0, nil)
	require.ErrorContains(t, err, "data range 0")
	nan := math.NaN()
	_, err = SSIM2D([]float64{nan, nan, nan, nan}, []float64{1, 2, 3, 4}, []int{2, 2}, 1, nil)
	require.ErrorContains(t, err, "no window of shape [2 2]")
}
