package codecs_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
)

func TestParseModeNames(t *testing.T) {
	for name, want := range map[string]codecs.Mode{
		"abs": codecs.ModeAbs, "rel": codecs.ModeRel, "pwrel": codecs.ModePWRel,
		"PSNR": codecs.ModePSNR, " norm ": codecs.ModeNorm, "none": codecs.ModeNone,
	} {
		got, err := codecs.ParseMode(name)
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
	}
	_, err := codecs.ParseMode("ssim")
	require.ErrorContains(t, err, "pwrel, psnr, norm")
}

func TestBoundValidateRanges(t *testing.T) {
	bad := []struct {
		b    codecs.Bound
		want string
	}{
		{codecs.Bound{Mode: codecs.ModePWRel, Value: 1}, "invalid pwrel bound 1: must be a relative error greater than 0 and less than 1"},
		{codecs.Bound{Mode: codecs.ModePWRel, Value: 1.5}, "invalid pwrel bound 1.5"},
		{codecs.Bound{Mode: codecs.ModePWRel, Value: -0.1}, "invalid pwrel bound -0.1"},
		{codecs.Bound{Mode: codecs.ModePSNR, Value: 0}, "invalid psnr bound 0: must be a finite PSNR in dB greater than 0"},
		{codecs.Bound{Mode: codecs.ModePSNR, Value: math.NaN()}, "invalid psnr bound NaN"},
		{codecs.Bound{Mode: codecs.ModeNorm, Value: -1}, "invalid norm bound -1: must be a finite number greater than 0"},
		{codecs.Bound{Mode: codecs.ModeNorm, Value: math.Inf(1)}, "invalid norm bound +Inf"},
		{codecs.Bound{Mode: 9, Value: 1}, "invalid error mode 9"},
	}
	for _, c := range bad {
		require.ErrorContains(t, c.b.Validate(), c.want)
	}
	for _, b := range []codecs.Bound{{Mode: codecs.ModePWRel, Value: 0.999}, {Mode: codecs.ModePSNR, Value: 120}, {Mode: codecs.ModeNorm, Value: 1e-9}} {
		require.NoError(t, b.Validate(), b.String())
	}
}

func TestBoundResolve(t *testing.T) {
	psnr := codecs.Bound{Mode: codecs.ModePSNR, Value: 60}
	require.InDelta(t, 100e-3, psnr.Resolve(100, 0), 1e-15)
	require.Equal(t, 0.0, psnr.Resolve(0, 0), "a constant array is lossless")
	norm := codecs.Bound{Mode: codecs.ModeNorm, Value: 2}
	require.InDelta(t, 2.0/math.Sqrt(400), norm.Resolve(0, 400), 1e-15)
	require.Equal(t, 2.0, norm.Resolve(0, 0))
	require.Equal(t, 0.0, codecs.Bound{Mode: codecs.ModePWRel, Value: 0.1}.Resolve(10, 10))
	require.Equal(t, 0.5, codecs.Bound{Mode: codecs.ModeRel, Value: 0.05}.Absolute(10))
}
