package codecs

import (
	"fmt"
	"math"
	"strings"
)

// Mode is an error-bound mode. Its numeric value is written into every
// stream header, so existing values never change.
type Mode uint8

const (
	// ModeNone stores values losslessly.
	ModeNone Mode = 0
	// ModeAbs bounds every value by |x - x'| <= Value.
	ModeAbs Mode = 1
	// ModeRel bounds every value by |x - x'| <= Value * (max - min), where
	// max and min range over the finite, non-fill values of the whole array.
	ModeRel Mode = 2
)

var modeNames = map[Mode]string{ModeNone: "none", ModeAbs: "abs", ModeRel: "rel"}

// ParseMode parses "none", "abs" or "rel".
func ParseMode(s string) (Mode, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for m, n := range modeNames {
		if n == name {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown error mode %q: allowed are abs, rel and none", s)
}

func (m Mode) String() string {
	if n, ok := modeNames[m]; ok {
		return n
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// Bound is an error bound as the user states it: a mode and a value.
type Bound struct {
	Mode  Mode
	Value float64
}

// Validate returns an error unless b is a usable bound: a known mode, and for
// lossy modes a finite value greater than zero. ModeNone requires Value 0.
func (b Bound) Validate() error {
	switch b.Mode {
	case ModeNone:
		if b.Value != 0 {
			return fmt.Errorf("invalid bound %v for mode none: lossless storage takes no bound", b.Value)
		}
		return nil
	case ModeAbs, ModeRel:
		if math.IsNaN(b.Value) || math.IsInf(b.Value, 0) || b.Value <= 0 {
			return fmt.Errorf("invalid %s bound %v: must be a finite number greater than 0", b.Mode, b.Value)
		}
		return nil
	default:
		return fmt.Errorf("invalid error mode %d: allowed are abs, rel and none", uint8(b.Mode))
	}
}

// Absolute resolves b to the absolute bound a codec applies to each value.
// valueRange is max - min of the finite, non-fill values of the whole array;
// it is used only by ModeRel. A constant array (valueRange 0) under ModeRel
// resolves to 0, which means lossless.
func (b Bound) Absolute(valueRange float64) float64 {
	switch b.Mode {
	case ModeAbs:
		return b.Value
	case ModeRel:
		if !(valueRange > 0) || math.IsInf(valueRange, 0) {
			return 0
		}
		return b.Value * valueRange
	default:
		return 0
	}
}

func (b Bound) String() string {
	if b.Mode == ModeNone {
		return "none"
	}
	return fmt.Sprintf("%s=%g", b.Mode, b.Value)
}

// MarshalText encodes m as its name, such as "rel".
func (m Mode) MarshalText() ([]byte, error) {
	if _, ok := modeNames[m]; !ok {
		return nil, fmt.Errorf("invalid error mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText parses a mode name.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	*m = v
	return err
}
