package chunk

import (
	"fmt"
	"strconv"
	"strings"
)

// Region is a half-open box: dimension i covers Start[i] <= x < Stop[i].
type Region struct {
	Start []int
	Stop  []int
}

// Full returns the region that covers all of s.
func Full(s Shape) Region {
	return Region{Start: make([]int, len(s)), Stop: append([]int(nil), s...)}
}

// Shape returns the size of r in each dimension.
func (r Region) Shape() Shape {
	s := make(Shape, len(r.Start))
	for i := range s {
		s[i] = r.Stop[i] - r.Start[i]
	}
	return s
}

// Count returns the number of values in r.
func (r Region) Count() int { return r.Shape().Count() }

// Empty reports whether r contains no value.
func (r Region) Empty() bool {
	for i := range r.Start {
		if r.Stop[i] <= r.Start[i] {
			return true
		}
	}
	return false
}

// ValidateIn returns an error unless r has the dimensions of s and
// 0 <= Start[i] < Stop[i] <= s[i] in every dimension.
func (r Region) ValidateIn(s Shape) error {
	if len(r.Start) != len(s) || len(r.Stop) != len(s) {
		return fmt.Errorf("region %v has %d dimensions, the array has %d", r, len(r.Start), len(s))
	}
	for i := range s {
		if r.Start[i] < 0 || r.Stop[i] > s[i] {
			return fmt.Errorf("region %v: dimension %d range %d:%d is outside the array, allowed is 0:%d", r, i, r.Start[i], r.Stop[i], s[i])
		}
		if r.Start[i] >= r.Stop[i] {
			return fmt.Errorf("region %v: dimension %d has start %d >= stop %d, start must be less than stop", r, i, r.Start[i], r.Stop[i])
		}
	}
	return nil
}

// Intersect returns the intersection of r and o and whether it is non-empty.
func (r Region) Intersect(o Region) (Region, bool) {
	out := Region{Start: make([]int, len(r.Start)), Stop: make([]int, len(r.Start))}
	for i := range r.Start {
		out.Start[i] = max(r.Start[i], o.Start[i])
		out.Stop[i] = min(r.Stop[i], o.Stop[i])
		if out.Start[i] >= out.Stop[i] {
			return out, false
		}
	}
	return out, true
}

// Equal reports whether r and o cover the same box.
func (r Region) Equal(o Region) bool {
	return Shape(r.Start).Equal(o.Start) && Shape(r.Stop).Equal(o.Stop)
}

// String formats r as "2:5,10:100".
func (r Region) String() string {
	parts := make([]string, len(r.Start))
	for i := range r.Start {
		parts[i] = fmt.Sprintf("%d:%d", r.Start[i], r.Stop[i])
	}
	return strings.Join(parts, ",")
}

// ParseRegion parses a region of an array of shape s written as
// comma-separated ranges, one per dimension: "a:b" (a <= x < b), "a:" (to the
// end), ":b", ":" (the whole dimension) or "i" (the single index i). The
// empty string is the whole array. The result is validated against s.
func ParseRegion(text string, s Shape) (Region, error) {
	if strings.TrimSpace(text) == "" {
		return Full(s), nil
	}
	parts := strings.Split(text, ",")
	if len(parts) != len(s) {
		return Region{}, fmt.Errorf("invalid region %q: it has %d ranges, the array has %d dimensions", text, len(parts), len(s))
	}
	r := Region{Start: make([]int, len(s)), Stop: make([]int, len(s))}
	for i, p := range parts {
		p = strings.TrimSpace(p)
		lo, hi, isRange := strings.Cut(p, ":")
		var err error
		if r.Start[i], err = parseBound(lo, 0); err != nil {
			return Region{}, fmt.Errorf("invalid region %q: dimension %d: %v", text, i, err)
		}
		switch {
		case !isRange:
			if lo == "" {
				return Region{}, fmt.Errorf("invalid region %q: dimension %d is empty, expected a:b, a:, :b, : or an index", text, i)
			}
			r.Stop[i] = r.Start[i] + 1
		default:
			if r.Stop[i], err = parseBound(hi, s[i]); err != nil {
				return Region{}, fmt.Errorf("invalid region %q: dimension %d: %v", text, i, err)
			}
		}
	}
	if err := r.ValidateIn(s); err != nil {
		return Region{}, err
	}
	return r, nil
}

func parseBound(text string, def int) (int, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return def, nil
	}
	v, err := strconv.Atoi(text)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", text)
	}
	return v, nil
}
