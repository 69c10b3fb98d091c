package qos

import "math"

// SSIM returns the mean structural similarity index of two 2-D fields of
// rows by cols values in C order, over 7 by 7 windows with stride 1 and the
// constants of Wang et al. (2004), C1 = (0.01 L)^2 and C2 = (0.03 L)^2, where
// L is dynamicRange. Windows with a non-finite value are skipped; it returns
// NaN when no window remains or the field is smaller than a window.
func SSIM(x, y []float64, rows, cols int, dynamicRange float64) float64 {
	const w = 7
	if rows < w || cols < w || len(x) != rows*cols || len(y) != rows*cols {
		return math.NaN()
	}
	c1 := (0.01 * dynamicRange) * (0.01 * dynamicRange)
	c2 := (0.03 * dynamicRange) * (0.03 * dynamicRange)
	var sum float64
	var count int
	for r := 0; r+w <= rows; r++ {
	window:
		for c := 0; c+w <= cols; c++ {
			var sx, sy, sxx, syy, sxy float64
			for i := r; i < r+w; i++ {
				for j := c; j < c+w; j++ {
					a, b := x[i*cols+j], y[i*cols+j]
					if a-a != 0 || b-b != 0 {
						continue window
					}
					sx += a
					sy += b
					sxx += a * a
					syy += b * b
					sxy += a * b
				}
			}
			n := float64(w * w)
			mx, my := sx/n, sy/n
			vx := sxx/n - mx*mx
			vy := syy/n - my*my
			cov := sxy/n - mx*my
			sum += ((2*mx*my + c1) * (2*cov + c2)) / ((mx*mx + my*my + c1) * (vx + vy + c2))
			count++
		}
	}
	if count == 0 {
		return math.NaN()
	}
	return sum / float64(count)
}

// ErrorHistogram counts |x - x'| / bound over the finite original values in
// bins equal bins of [0, 1]; the last element counts values above the
// bound. Values equal to fill (when fill is not nil) are skipped. A bound
// of 0 puts exact values in the first bin and every other in the last.
func ErrorHistogram(orig, dec []float64, bound float64, bins int, fill *float64) []int {
	out := make([]int, bins+1)
	for i, x := range orig {
		if x-x != 0 || (fill != nil && x == *fill) {
			continue
		}
		d := math.Abs(x - dec[i])
		switch {
		case d == 0:
			out[0]++
		case bound == 0 || !(d <= bound):
			out[bins]++
		default:
			out[min(int(d/bound*float64(bins)), bins-1)]++
		}
	}
	return out
}
