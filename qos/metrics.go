package qos

import "github.com/epsilon-db/epsilon/internal/errstat"

// ErrorStats compares decoded values with their originals, in float64.
type ErrorStats = errstat.ErrorStats

// Compare computes the error statistics of dec against orig and counts the
// values farther than bound from their original. Non-finite originals and
// originals equal to fill (when fill is not nil) must come back bit-exact.
func Compare[T float32 | float64](orig, dec []T, bound float64, fill *float64) ErrorStats {
	return errstat.Compare(orig, dec, bound, fill)
}

// ComparePointwise is Compare with the point-wise relative bound of
// codecs.ModePWRel: a value x counts as a violation when |x - x'| > rel*|x|.
func ComparePointwise[T float32 | float64](orig, dec []T, rel float64, fill *float64) ErrorStats {
	return errstat.ComparePointwise(orig, dec, rel, fill)
}

// PSNR returns 20 log10(valueRange / rmse) in dB, +Inf when rmse is 0.
func PSNR(valueRange, rmse float64) float64 { return errstat.PSNR(valueRange, rmse) }
