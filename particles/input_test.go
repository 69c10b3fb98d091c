package particles

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
)

func TestWriteRejectsBadInput(t *testing.T) {
	good := func() (*Dataset, Options) {
		ds := &Dataset{DType: codecs.Float32, X: []float64{1, 2, 3}, Y: []float64{1, 1, 1}, Z: []float64{5, 5, 5}}
		return ds, Options{Box: 10, Periodic: true, Link: 1, Bound: 0.1}
	}
	cases := []struct {
		name   string
		change func(*Dataset, *Options)
		msg    string
	}{
		{"outside box", func(d *Dataset, _ *Options) { d.X[1] = 10.5 }, "x = 10.5 is outside the box"},
		{"below box", func(d *Dataset, _ *Options) { d.Z[0] = -0.2 }, "z = -0.2 is outside the box"},
		{"link zero", func(_ *Dataset, o *Options) { o.Link = 0 }, "invalid linking length 0"},
		{"link negative", func(_ *Dataset, o *Options) { o.Link = -1 }, "invalid linking length -1"},
		{"link over half box", func(_ *Dataset, o *Options) { o.Link = 6 }, "invalid linking length 6: must be at most half the box size 10"},
		{"bound at link", func(_ *Dataset, o *Options) { o.Bound = 1 }, "invalid bound 1: must be less than the linking length 1"},
		{"bound zero", func(_ *Dataset, o *Options) { o.Bound = 0 }, "invalid bound 0"},
		{"lengths differ", func(d *Dataset, _ *Options) { d.Y = d.Y[:2] }, "positions have 3, 2 and 3 values"},
		{"not float32", func(d *Dataset, _ *Options) { d.X[0] = 1.1 }, "x = 1.1 is not a float32 value"},
		{"ids short", func(d *Dataset, _ *Options) { d.IDs = []int64{1} }, "1 ids for 3 particles"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := openStore(t)
			ds, o := good()
			c.change(ds, &o)
			_, err := Write(db, "set", ds, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
			arrays, err := db.List()
			require.NoError(t, err)
			assert.Empty(t, arrays, "nothing written")
		})
	}
}

func TestWriteSmallSetRoundTrip(t *testing.T) {
	db := openStore(t)
	ds := &Dataset{DType: codecs.Float64, X: []float64{1, 1.95, 9.9, 5}, Y: []float64{1, 1, 1, 5}, Z: []float64{5, 5, 5, 5},
		Attributes: []Attribute{{Name: "phi", Values: []float64{0.5, -0.25, 3, 4}, Bound: 0}}}
	_, err := Write(db, "set", ds, Options{Box: 10, Periodic: true, Link: 1, Bound: 0.1})
	require.NoError(t, err)
	got, info, err := Read(db, "set", ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, ds.Attributes[0].Values, got.Attributes[0].Values)
	assert.Equal(t, 4, info.Count)
	for i := range ds.X {
		assert.InDelta(t, ds.X[i], got.X[i], 0.1)
	}
	// Particle 2 at x=9.9 links to particle 0 at x=1 across the periodic
	// edge (distance 1.1 > 1: no link), and 0 links 1 (0.95).
	g, err := FoF(got.X, got.Y, got.Z, Space{Box: 10, Periodic: true}, 1)
	require.NoError(t, err)
	assert.Equal(t, []int32{0, 0, 2, 3}, g.Labels)

	_, err = Write(db, "set", ds, Options{Box: 10, Periodic: true, Link: 1, Bound: 0.1})
	assert.Error(t, err, "a second write of the same name")
}
