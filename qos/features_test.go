package qos

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSortFloatsMatchesSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 63, 64, 1000, 1024} {
		v := make([]float64, n)
		for i := range v {
			switch i % 5 {
			case 0:
				v[i] = rng.NormFloat64() * 1e-6
			case 1:
				v[i] = math.Copysign(0, -1)
			case 2:
				v[i] = float64(rng.IntN(7) - 3)
			case 3:
				v[i] = math.Inf(1 - 2*rng.IntN(2))
			default:
				v[i] = rng.NormFloat64() * 1e30
			}
		}
		want := slices.Clone(v)
		slices.Sort(want)
		sortFloats(v)
		require.Equal(t, len(want), len(v))
		for i := range v {
			// -0 and 0 compare equal; the radix sort puts -0 first.
			require.True(t, v[i] == want[i], "n=%d index %d: %v, slices.Sort has %v", n, i, v[i], want[i])
		}
	}
}
