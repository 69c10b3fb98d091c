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
	// ModePWRel bounds every value by |x - x'| <= Value * |x|, with
	// 0 < Value < 1: zeros come back exact and signs are kept. The stream
	// layer encodes log2|x| (see the stream layout in stream.go).
	ModePWRel Mode = 3
	// ModePSNR targets a peak signal-to-noise ratio of at least Value dB
	// over the whole array, with the peak taken as max - min of the finite,
	// non-fill values. It resolves to an absolute bound (see Resolve).
	ModePSNR Mode = 4
	// ModeNorm bounds the L2 norm of the error of the whole array,
	// ||x - x'||_2 <= Value. It resolves to an absolute bound (see Resolve).
	ModeNorm Mode = 5
)

var modeNames = map[Mode]string{
	ModeNone: "none", ModeAbs: "abs", ModeRel: "rel",
	ModePWRel: "pwrel", ModePSNR: "psnr", ModeNorm: "norm",
}

const allowedModes = "abs, rel, pwrel, psnr, norm and none"

// ParseMode parses "none", "abs", "rel", "pwrel", "psnr" or "norm".
func ParseMode(s string) (Mode, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for m, n := range modeNames {
		if n == name {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown error mode %q: allowed are %s", s, allowedModes)
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

// Validate returns an error unless b is a usable bound: a known mode, and
// for lossy modes a finite value in the mode's range. ModeNone requires
// Value 0, ModePWRel a value in (0, 1), and the other modes a value greater
// than 0.
func (b Bound) Validate() error {
	bad := math.IsNaN(b.Value) || math.IsInf(b.Value, 0) || b.Value <= 0
	switch b.Mode {
	case ModeNone:
		if b.Value != 0 {
			return fmt.Errorf("invalid bound %v for mode none: lossless storage takes no bound", b.Value)
		}
		return nil
	case ModeAbs, ModeRel, ModeNorm:
		if bad {
			return fmt.Errorf("invalid %s bound %v: must be a finite number greater than 0", b.Mode, b.Value)
		}
		return nil
	case ModePSNR:
		if bad {
			return fmt.Errorf("invalid psnr bound %v: must be a finite PSNR in dB greater than 0", b.Value)
		}
		return nil
	case ModePWRel:
		if bad || b.Value >= 1 {
			return fmt.Errorf("invalid pwrel bound %v: must be a relative error greater than 0 and less than 1", b.Value)
		}
		return nil
	default:
		return fmt.Errorf("invalid error mode %d: allowed are %s", uint8(b.Mode), allowedModes)
	}
}

// NeedsRange reports whether b resolves against the value range of the
// array (ModeRel and ModePSNR).
func (b Bound) NeedsRange() bool { return b.Mode == ModeRel || b.Mode == ModePSNR }

// Pointwise reports whether b bounds each value relative to itself
// (ModePWRel), so that no single absolute bound applies.
func (b Bound) Pointwise() bool { return b.Mode == ModePWRel }

// Absolute resolves b to the absolute bound a codec applies to each value,
// for the modes that need no value count: Resolve(valueRange, 0).
func (b Bound) Absolute(valueRange float64) float64 { return b.Resolve(valueRange, 0) }

// Resolve returns the absolute bound every finite, non-fill value is stored
// within, or 0 for lossless. valueRange is max - min of the finite, non-fill
// values of the whole array, used by ModeRel and ModePSNR. count is the
// number of such values, or any larger number such as the array's size,
// used by ModeNorm.
//
//   - ModeAbs: Value.
//   - ModeRel: Value * valueRange.
//   - ModePSNR: valueRange * 10^(-Value/20). With every error at most eb,
//     the RMSE is at most eb, so the PSNR is at least Value whatever the
//     distribution of the errors. The estimate sqrt(3) times larger, which
//     assumes errors uniform in [-eb, eb] (MSE = eb^2/3), misses the target
//     by up to 4.77 dB where the errors pile up near +-eb: data on a grid
//     aligned with the quantization bins, for example.
//   - ModeNorm: Value / sqrt(count), so that ||x - x'||_2 <= sqrt(count) * eb
//     <= Value. A count of 0 (no finite value) resolves to Value.
//   - ModePWRel and ModeNone: 0, because no absolute bound applies.
//
// ModeRel and ModePSNR resolve to 0 for a constant array (valueRange 0).
func (b Bound) Resolve(valueRange float64, count int64) float64 {
	rangeOK := valueRange > 0 && !math.IsInf(valueRange, 0)
	switch b.Mode {
	case ModeAbs:
		return b.Value
	case ModeRel:
		if !rangeOK {
			return 0
		}
		return b.Value * valueRange
	case ModePSNR:
		if !rangeOK {
			return 0
		}
		return valueRange * math.Pow(10, -b.Value/20)
	case ModeNorm:
		if count <= 1 {
			return b.Value
		}
		return b.Value / math.Sqrt(float64(count))
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
