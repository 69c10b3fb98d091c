package qos

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTargetValid(t *testing.T) {
	cases := map[string]Target{
		"psnr=60":     {PSNRMetric, 60},
		" SSIM=0.99 ": {SSIMMetric, 0.99},
		"nrmse=1e-3":  {NRMSEMetric, 1e-3},
		"maxerr=0.01": {MaxErrMetric, 0.01},
		"ratio=30":    {RatioMetric, 30},
		"ratio=1":     {RatioMetric, 1},
	}
	for in, want := range cases {
		got, err := ParseTarget(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

func TestParseTargetRejects(t *testing.T) {
	cases := map[string]string{
		"psnr":       "expected metric=value",
		"mse=3":      `unknown target metric "mse"`,
		"psnr=abc":   "is not a number",
		"psnr=-5":    "greater than 0 dB",
		"ssim=1":     "less than 1",
		"ssim=0":     "greater than 0",
		"nrmse=0":    "greater than 0",
		"maxerr=-1":  "greater than 0",
		"ratio=0.5":  "below 1",
		"psnr=NaN":   "must be finite",
		"ratio=+Inf": "must be finite",
	}
	for in, msg := range cases {
		_, err := ParseTarget(in)
		require.ErrorContains(t, err, msg, in)
	}
}

func TestClosedFormBound(t *testing.T) {
	// SZ3's rule: eb = sqrt(3) * range * 10^(-psnr/20).
	require.InDelta(t, math.Sqrt(3)*2e-3, Target{PSNRMetric, 60}.ClosedFormBound(2), 1e-12)
	require.InDelta(t, math.Sqrt(3)*1e-3*5, Target{NRMSEMetric, 1e-3}.ClosedFormBound(5), 1e-12)
	require.Equal(t, 0.25, Target{MaxErrMetric, 0.25}.ClosedFormBound(5))
	require.Zero(t, Target{SSIMMetric, 0.99}.ClosedFormBound(5))
}

func TestParseMode(t *testing.T) {
	m, err := ParseMode("fast")
	require.NoError(t, err)
	require.Equal(t, Fast, m)
	m, err = ParseMode("verify")
	require.NoError(t, err)
	require.Equal(t, Verify, m)
	_, err = ParseMode("slow")
	require.ErrorContains(t, err, `unknown qos mode "slow"`)
}
