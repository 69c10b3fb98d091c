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
