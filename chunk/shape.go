package chunk

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxDims is the largest number of dimensions of an array.
const MaxDims = 8

// Shape is the size of each dimension, slowest first.
type Shape []int

// Validate returns an error unless s has 1 to MaxDims dimensions, each of
// size 0 or more, and a value count that fits in an int. Empty arrays (a
// dimension of size 0) are valid.
func (s Shape) Validate() error {
	if len(s) < 1 || len(s) > MaxDims {
		return fmt.Errorf("shape %v has %d dimensions, allowed are 1 to %d", []int(s), len(s), MaxDims)
	}
	n := 1
	for i, d := range s {
		if d < 0 {
			return fmt.Errorf("shape %v: dimension %d has size %d, allowed are sizes of 0 or more", []int(s), i, d)
		}
		if d > 0 && n > math.MaxInt/d {
			return fmt.Errorf("shape %v: value count overflows", []int(s))
		}
		n *= d
	}
	return nil
}

// Count returns the number of values, the product of the dimensions.
func (s Shape) Count() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and o have the same dimensions.
func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

// Clone returns a copy of s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// String formats s as "10x192x288".
func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "x")
}

// ParseShape parses a comma- or x-separated list of sizes such as
// "10,192,288" or "10x192x288" and validates it.
func ParseShape(text string) (Shape, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == 'x' || r == 'X' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("invalid shape %q: expected sizes such as 10,192,288", text)
	}
	s := make(Shape, len(fields))
	for i, f := range fields {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("invalid shape %q: size %q is not an integer", text, f)
		}
		s[i] = d
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// strides returns the C-order element strides of s.
func strides(s Shape) []int {
	st := make([]int, len(s))
	n := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = n
		n *= s[i]
	}
	return st
}
