package qos

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Metric names the quality measure a Target constrains.
type Metric uint8

const (
	// PSNRMetric is 20 log10(range / RMSE) in dB over the whole array,
	// where range is max - min of its finite, non-fill values.
	PSNRMetric Metric = iota + 1
	// SSIMMetric is the mean windowed SSIM of the 2-D slices along the two
	// fastest dimensions (see SSIM2D).
	SSIMMetric
	// NRMSEMetric is RMSE / range.
	NRMSEMetric
	// MaxErrMetric is max |x - x'|, an absolute value.
	MaxErrMetric
	// RatioMetric is raw bytes / stored bytes. A ratio target asks for the
	// best quality whose ratio is at least the target.
	RatioMetric
)

var metricNames = map[Metric]string{
	PSNRMetric: "psnr", SSIMMetric: "ssim", NRMSEMetric: "nrmse", MaxErrMetric: "maxerr", RatioMetric: "ratio",
}

func (m Metric) String() string {
	if n, ok := metricNames[m]; ok {
		return n
	}
	return fmt.Sprintf("metric(%d)", uint8(m))
}

// Target is a quality requirement on a whole array, such as PSNR >= 60 dB.
type Target struct {
	Metric Metric
	Value  float64
}

func (t Target) String() string { return fmt.Sprintf("%s=%g", t.Metric, t.Value) }

// ParseTarget parses "metric=value", for example "psnr=60", "ssim=0.99",
// "nrmse=1e-3", "maxerr=0.01" or "ratio=30", and validates the value.
func ParseTarget(s string) (Target, error) {
	name, value, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return Target{}, fmt.Errorf("invalid target %q: expected metric=value, such as psnr=60; metrics are psnr, ssim, nrmse, maxerr and ratio", s)
	}
	var t Target
	name = strings.ToLower(strings.TrimSpace(name))
	for m, n := range metricNames {
		if n == name {
			t.Metric = m
		}
	}
	if t.Metric == 0 {
		return Target{}, fmt.Errorf("unknown target metric %q: allowed are psnr, ssim, nrmse, maxerr and ratio", name)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil {
		return Target{}, fmt.Errorf("invalid target %q: %q is not a number", s, value)
	}
	t.Value = v
	return t, t.Validate()
}

// Validate checks the value against the range its metric allows.
func (t Target) Validate() error {
	v := t.Value
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("invalid target %s: the value must be finite", t)
	}
	switch t.Metric {
	case PSNRMetric:
		if v <= 0 {
			return fmt.Errorf("invalid target %s: PSNR must be greater than 0 dB", t)
		}
	case SSIMMetric:
		if v <= 0 || v >= 1 {
			return fmt.Errorf("invalid target %s: SSIM must be greater than 0 and less than 1 (SSIM 1 needs lossless storage, --mode none)", t)
		}
	case NRMSEMetric, MaxErrMetric:
		if v <= 0 {
			return fmt.Errorf("invalid target %s: %s must be greater than 0 (0 needs lossless storage, --mode none)", t, t.Metric)
		}
	case RatioMetric:
		if v < 1 {
			return fmt.Errorf("invalid target %s: a compression ratio below 1 is not a target, the minimum is 1", t)
		}
	default:
		return fmt.Errorf("invalid target metric %d: allowed are psnr, ssim, nrmse, maxerr and ratio", uint8(t.Metric))
	}
	return nil
}

// mseBudget returns the mean squared error per value that meets a PSNR or
// NRMSE target on an array whose value range is valueRange.
func (t Target) mseBudget(valueRange float64) float64 {
	switch t.Metric {
	case PSNRMetric:
		r := valueRange * math.Pow(10, -t.Value/20)
		return r * r
	case NRMSEMetric:
		r := valueRange * t.Value
		return r * r
	}
	return 0
}

// ClosedFormBound returns the uniform absolute bound of SZ3's rule for a
// PSNR or NRMSE target: with errors uniform in [-eb, eb], RMSE = eb/sqrt(3),
// so eb = sqrt(3) * range * 10^(-psnr/20). For maxerr it returns the target
// itself, and for SSIM and ratio, which have no closed form, 0.
func (t Target) ClosedFormBound(valueRange float64) float64 {
	switch t.Metric {
	case PSNRMetric, NRMSEMetric:
		return math.Sqrt(3 * t.mseBudget(valueRange))
	case MaxErrMetric:
		return t.Value
	}
	return 0
}

// Mode selects how Import meets a target.
type Mode uint8

const (
	// Verify predicts the bounds, compresses, measures the true metric and
	// corrects the chunks that need it, so the target is always met.
	Verify Mode = iota
	// Fast trusts the prediction and measures nothing.
	Fast
)

// ParseMode parses "verify" or "fast".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "verify", "":
		return Verify, nil
	case "fast":
		return Fast, nil
	}
	return 0, fmt.Errorf("unknown qos mode %q: allowed are verify and fast", s)
}

func (m Mode) String() string {
	if m == Fast {
		return "fast"
	}
	return "verify"
}
