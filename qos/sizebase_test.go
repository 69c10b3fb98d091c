package qos

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// sizeSample returns a sample whose inputs give the size basis the
// entropies hL and hI at bound exponent e, for a chunk of n values.
func sizeSample(hL, hI, e float64, n int) sample {
	x := make([]float64, numInputs)
	x[0] = e
	x[6] = hL
	x[10] = hI
	x[12] = 1
	x[16] = math.Log10(float64(n))
	return sample{x: x}
}

func TestFitSizeBaseRecoversCoefficients(t *testing.T) {
	want := []float64{0.3, 0.8, 0.15, -0.05}
	rng := rand.New(rand.NewPCG(1, 2))
	var samples []sample
	for range 500 {
		s := sizeSample(12*rng.Float64(), 12*rng.Float64(), -7*rng.Float64(), 1<<(10+rng.IntN(8)))
		phi := sizeBasisOf(s.x)
		for i, c := range want {
			s.lnBytes += c * phi[i]
		}
		samples = append(samples, s)
	}
	got, err := fitSizeBase(samples)
	require.NoError(t, err)
	require.Len(t, got, sizeBasis)
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-3, "coefficient %d", i)
	}

	cm := &CodecModel{SizeBase: got}
	for _, s := range samples[:20] {
		require.InDelta(t, s.lnBytes, cm.sizeBase(s.x), 1e-3)
	}
}

func TestFitSizeBaseConstantColumn(t *testing.T) {
	// Every sample has the same entropies: the ridge keeps the normal
	// equations solvable and the fit still reproduces the sizes.
	var samples []sample
	for i := range 50 {
		s := sizeSample(4, 4, -3-float64(i)/25, 1<<16)
		s.lnBytes = -1 + 0.5*s.x[0]
		samples = append(samples, s)
	}
	got, err := fitSizeBase(samples)
	require.NoError(t, err)
	cm := &CodecModel{SizeBase: got}
	for _, s := range samples {
		require.InDelta(t, s.lnBytes, cm.sizeBase(s.x), 1e-2)
	}
}

func TestSizeBaseMissingIsZero(t *testing.T) {
	cm := &CodecModel{}
	require.Zero(t, cm.sizeBase(sizeSample(4, 4, -3, 1<<16).x))
}
