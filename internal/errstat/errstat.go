// Package errstat compares decoded values with their originals: the max
// error, RMSE, PSNR and the count of values outside a bound, in float64.
// Package qos re-exports it; the store's own tests use it directly, because
// qos imports the store.
package errstat

import (
	"fmt"
	"math"
)

// ErrorStats compares decoded values with their originals, in float64.
type ErrorStats struct {
	// Count is the number of finite, non-fill original values compared.
	Count int `json:"count"`
	// MaxAbsError is max |x - x'| over those values.
	MaxAbsError float64 `json:"max_abs_error"`
	// RMSE is the root mean square error over those values.
	RMSE float64 `json:"rmse"`
	// ValueRange is max - min of the original values compared.
	ValueRange float64 `json:"value_range"`
	// PSNR is 20 log10(ValueRange / RMSE) in dB, +Inf when RMSE is 0.
	PSNR float64 `json:"psnr"`
	// Violations counts values with |x - x'| > Bound.
	Violations int `json:"violations"`
	// FirstViolation is the index of the first violation, or -1.
	FirstViolation int `json:"first_violation"`
	// SpecialMismatches counts NaN, ±Inf and fill values that did not come
	// back bit-exact.
	SpecialMismatches int `json:"special_mismatches"`
	// Bound is the absolute bound the values were checked against.
	Bound float64 `json:"bound"`
}

// OK reports whether every value was within the bound and every special
// value came back exact.
func (s ErrorStats) OK() bool { return s.Violations == 0 && s.SpecialMismatches == 0 }

// Err returns nil when s.OK(), and otherwise an error with the numbers.
func (s ErrorStats) Err() error {
	if s.OK() {
		return nil
	}
	return fmt.Errorf("error bound exceeded: %d values with |x-x'| > %g (max %g, first at index %d), %d special values changed",
		s.Violations, s.Bound, s.MaxAbsError, s.FirstViolation, s.SpecialMismatches)
}

// Compare computes the error statistics of dec against orig and counts the
// values farther than bound from their original. Non-finite originals and
// originals equal to fill (when fill is not nil) must come back bit-exact.
func Compare[T float32 | float64](orig, dec []T, bound float64, fill *float64) ErrorStats {
	return compare(orig, dec, bound, 0, fill)
}

// ComparePointwise is Compare with the point-wise relative bound of
// codecs.ModePWRel: a value x counts as a violation when |x - x'| > rel*|x|.
// Bound in the result is 0.
func ComparePointwise[T float32 | float64](orig, dec []T, rel float64, fill *float64) ErrorStats {
	return compare(orig, dec, 0, rel, fill)
}

// compare checks each value x against the bound abs + rel*|x|.
func compare[T float32 | float64](orig, dec []T, abs, rel float64, fill *float64) ErrorStats {
	s := ErrorStats{FirstViolation: -1, Bound: abs}
	if len(orig) != len(dec) {
		s.SpecialMismatches = max(len(orig), len(dec))
		return s
	}
	var fillT T
	if fill != nil {
		fillT = T(*fill)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var sumSq float64
	for i, o := range orig {
		x := float64(o)
		y := float64(dec[i])
		if x-x != 0 || (fill != nil && o == fillT) {
			if !sameBits(o, dec[i]) {
				s.SpecialMismatches++
			}
			continue
		}
		d := math.Abs(x - y)
		if !(d <= abs+rel*math.Abs(x)) { // also catches a NaN decoded for a finite value
			s.Violations++
			if s.FirstViolation < 0 {
				s.FirstViolation = i
			}
		}
		if d > s.MaxAbsError || d != d {
			s.MaxAbsError = d
		}
		sumSq += d * d
		lo, hi = min(lo, x), max(hi, x)
		s.Count++
	}
	if s.Count > 0 {
		s.RMSE = math.Sqrt(sumSq / float64(s.Count))
		s.ValueRange = hi - lo
	}
	s.PSNR = PSNR(s.ValueRange, s.RMSE)
	return s
}

// PSNR returns 20 log10(valueRange / rmse) in dB, +Inf when rmse is 0.
func PSNR(valueRange, rmse float64) float64 {
	if rmse == 0 {
		return math.Inf(1)
	}
	return 20 * math.Log10(valueRange/rmse)
}

func sameBits[T float32 | float64](a, b T) bool {
	switch x := any(a).(type) {
	case float32:
		return math.Float32bits(x) == math.Float32bits(any(b).(float32))
	default:
		return math.Float64bits(any(a).(float64)) == math.Float64bits(any(b).(float64))
	}
}
