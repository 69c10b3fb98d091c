package qos

import "math"

// ErrorHistogram counts |x - x'| / bound over the finite original values in
// bins equal bins of [0, 1]; the last element counts values above the
// bound. Values equal to fill (when fill is not nil) are skipped. A bound
// of 0 puts exact values in the first bin and every other in the last.
func ErrorHistogram(orig, dec []float64, bound float64, bins int, fill *float64) []int {
	return errorHistogram(orig, dec, bound, 0, bins, fill)
}

// ErrorHistogramPointwise is ErrorHistogram with the point-wise relative
// bound rel*|x| of codecs.ModePWRel in place of one absolute bound.
func ErrorHistogramPointwise(orig, dec []float64, rel float64, bins int, fill *float64) []int {
	return errorHistogram(orig, dec, 0, rel, bins, fill)
}

// errorHistogram counts |x - x'| / (abs + rel*|x|).
func errorHistogram(orig, dec []float64, abs, rel float64, bins int, fill *float64) []int {
	out := make([]int, bins+1)
	for i, x := range orig {
		if x-x != 0 || (fill != nil && x == *fill) {
			continue
		}
		d := math.Abs(x - dec[i])
		bound := abs + rel*math.Abs(x)
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
