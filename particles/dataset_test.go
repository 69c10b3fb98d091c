package particles

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), &store.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func (s *realSet) dataset() *Dataset {
	ds := &Dataset{DType: codecs.Float32, X: s.x, Y: s.y, Z: s.z, IDs: s.ids}
	if s.vel[0] != nil {
		ds.VX, ds.VY, ds.VZ = s.vel[0], s.vel[1], s.vel[2]
	}
	return ds
}

func TestRoundTripKeepsGroups(t *testing.T) {
	for _, load := range []func(testing.TB) *realSet{hacc, hfof, abacus} {
		s := load(t)
		want, err := FoF(s.x, s.y, s.z, s.space, s.link)
		require.NoError(t, err)
		for _, frac := range []float64{0.05, 0.2} {
			t.Run(fmt.Sprintf("%s/bound=%gxlink", s.name, frac), func(t *testing.T) {
				db := openStore(t)
				bound := frac * s.link
				o := Options{Box: s.space.Box, Periodic: true, Link: s.link, Bound: bound, VelocityBound: 1}
				info, err := Write(db, "set", s.dataset(), o)
				require.NoError(t, err)
				t.Logf("pairs %d, exact %d, moved %d, rounds %d", info.Correction.Pairs, info.Correction.ExactParticles, info.Correction.MovedParticles, info.Correction.Rounds)

				got, _, err := Read(db, "set", ReadOptions{})
				require.NoError(t, err)
				for d, pair := range [][2][]float64{{s.x, got.X}, {s.y, got.Y}, {s.z, got.Z}} {
					st := qos.Compare(pair[0], pair[1], bound, nil)
					assert.NoError(t, st.Err(), "axis %d", d)
				}
				groups, err := FoF(got.X, got.Y, got.Z, s.space, s.link)
				require.NoError(t, err)
				assert.Equal(t, 0, want.Relabelled(groups), "relabelled particles")
				assert.Equal(t, want.Labels, groups.Labels)
				if s.vel[0] != nil {
					st := qos.Compare(s.vel[0], got.VX, 1, nil)
					assert.NoError(t, st.Err(), "vx")
				}
				assert.Equal(t, s.ids, got.IDs)
			})
		}
	}
}
