package qos

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPackedEnsembleMatchesTrees(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, numInputs)
	for _, name := range m.Codecs() {
		cm := m.doc.Codecs[name]
		for _, e := range cm.Experts {
			for _, b := range []*Boosted{e.MSE, e.Bytes, e.SSIM} {
				require.NotNil(t, b.roots, "codec %s: an ensemble is not packed", name)
				for range 50 {
					for i := range x {
						x[i] = cm.Mean[i] + 2*cm.Scale[i]*rng.NormFloat64()
					}
					want := b.Base
					for i := range b.Trees {
						want += b.Trees[i].predict(x)
					}
					require.Equal(t, want, b.predict(x), "codec %s", name)
				}
			}
		}
	}
}

func TestPackedEnsembleOddTreeCounts(t *testing.T) {
	// predict descends four trees at a time: ensembles whose size is not
	// a multiple of four take the single-tree path for the rest.
	m, err := DefaultModel()
	require.NoError(t, err)
	cm := m.doc.Codecs["lorenzo"]
	full := cm.Experts[0].MSE
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float64, numInputs)
	for _, n := range []int{1, 2, 3, 5, 6, 7, 9} {
		b := &Boosted{Base: full.Base, Trees: full.Trees[:n]}
		b.pack()
		require.NotNil(t, b.roots)
		for range 50 {
			for i := range x {
				x[i] = cm.Mean[i] + 2*cm.Scale[i]*rng.NormFloat64()
			}
			want := b.Base
			for i := range b.Trees {
				want += b.Trees[i].predict(x)
			}
			require.Equal(t, want, b.predict(x), "%d trees", n)
		}
	}
}
