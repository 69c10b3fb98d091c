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

func openStore(t testing.TB) *store.DB {
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

// inOriginalOrder returns got in the order of the original ids, when got
// came back in stored order.
func inOriginalOrder(t *testing.T, ids []int64, got *Dataset) *Dataset {
	t.Helper()
	if ids == nil {
		return got
	}
	at := make(map[int64]int, len(ids))
	for i, id := range ids {
		at[id] = i
	}
	out := &Dataset{DType: got.DType, IDs: make([]int64, len(ids))}
	put := func(v []float64) []float64 {
		if v == nil {
			return nil
		}
		o := make([]float64, len(v))
		for k, id := range got.IDs {
			o[at[id]] = v[k]
		}
		return o
	}
	out.X, out.Y, out.Z = put(got.X), put(got.Y), put(got.Z)
	out.VX, out.VY, out.VZ = put(got.VX), put(got.VY), put(got.VZ)
	for _, id := range got.IDs {
		out.IDs[at[id]] = id
	}
	return out
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
				c := info.Correction
				t.Logf("pairs %d, relabelled without correction %d, levels %v, rounds %d", c.Pairs, c.Relabelled, c.Levels, c.Rounds)
				assert.Equal(t, s.ids == nil, info.Ordered)

				for _, correct := range []bool{true, false} {
					got, _, err := Read(db, "set", ReadOptions{NoCorrect: !correct})
					require.NoError(t, err)
					got = inOriginalOrder(t, s.ids, got)
					for d, pair := range [][2][]float64{{s.x, got.X}, {s.y, got.Y}, {s.z, got.Z}} {
						st := qos.Compare(pair[0], pair[1], bound, nil)
						assert.NoError(t, st.Err(), "axis %d", d)
					}
					groups, err := FoF(got.X, got.Y, got.Z, s.space, s.link)
					require.NoError(t, err)
					if correct {
						assert.Equal(t, 0, want.Relabelled(groups), "relabelled particles")
						assert.Equal(t, want.Labels, groups.Labels)
					} else {
						assert.Equal(t, c.Relabelled, want.Relabelled(groups), "relabelled particles without the correction")
					}
					if s.vel[0] != nil {
						st := qos.Compare(s.vel[0], got.VX, 1, nil)
						assert.NoError(t, st.Err(), "vx")
					}
					assert.Equal(t, s.ids, got.IDs)
				}
			})
		}
	}
}

func TestOriginalOrderWithIDs(t *testing.T) {
	s := hacc(t)
	db := openStore(t)
	info, err := Write(db, "set", s.dataset(), Options{Box: s.space.Box, Periodic: true, Link: s.link, Bound: 0.08, Order: OrderOriginal})
	require.NoError(t, err)
	assert.True(t, info.Ordered)
	got, _, err := Read(db, "set", ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, s.ids, got.IDs)
	st := qos.Compare(s.x, got.X, 0.08, nil)
	assert.NoError(t, st.Err())
}

func TestStoredOrderWithoutIDs(t *testing.T) {
	s := hfof(t)
	db := openStore(t)
	bound := 0.2 * s.link
	info, err := Write(db, "set", s.dataset(), Options{Box: s.space.Box, Periodic: true, Link: s.link, Bound: bound, Order: OrderStored})
	require.NoError(t, err)
	assert.False(t, info.Ordered)
	st, err := StatDataset(db, "set")
	require.NoError(t, err)
	assert.NotContains(t, st.Arrays, "set/perm")

	// The stored order is the Morton order of the original positions.
	got, _, err := Read(db, "set", ReadOptions{})
	require.NoError(t, err)
	perm := mortonOrder(s.x, s.y, s.z)
	for d, v := range [][2][]float64{{gather(s.x, perm), got.X}, {gather(s.y, perm), got.Y}, {gather(s.z, perm), got.Z}} {
		assert.NoError(t, qos.Compare(v[0], v[1], bound, nil).Err(), "axis %d", d)
	}
	want, err := FoF(s.x, s.y, s.z, s.space, s.link)
	require.NoError(t, err)
	have, err := FoF(got.X, got.Y, got.Z, s.space, s.link)
	require.NoError(t, err)
	assert.Equal(t, want.Count(), have.Count())
	assert.Equal(t, want.Sizes(), have.Sizes())
}
