package particles

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFoFHfofReference(t *testing.T) {
	s := hfof(t)
	// Group counts, singletons included, from the hfof repository's tests.
	cases := []struct {
		link               float64
		isolated, periodic int
	}{
		{0.001, 27824, 27823},
		{0.005, 14497, 14488},
		{0.01, 9600, 9580},
		{0.05, 461, 396},
		{0.1, 2, 1},
		{0.3, 0, 1}, // isolated 0 means no reference
	}
	for _, c := range cases {
		for _, periodic := range []bool{false, true} {
			want := c.isolated
			if periodic {
				want = c.periodic
			}
			if want == 0 {
				continue
			}
			t.Run(fmt.Sprintf("link=%g/periodic=%v", c.link, periodic), func(t *testing.T) {
				g, err := FoF(s.x, s.y, s.z, Space{Box: 1, Periodic: periodic}, c.link)
				require.NoError(t, err)
				assert.Equal(t, want, g.Count())
			})
		}
	}
}

func TestFoFHfofDefaultLink(t *testing.T) {
	s := hfof(t)
	for _, c := range []struct {
		periodic       bool
		groups, with20 int
	}{{true, 12765, 70}, {false, 12776, 69}} {
		g, err := FoF(s.x, s.y, s.z, Space{Box: 1, Periodic: c.periodic}, s.link)
		require.NoError(t, err)
		assert.Equal(t, c.groups, g.Count(), "periodic=%v", c.periodic)
		assert.Equal(t, c.with20, g.CountMin(20), "periodic=%v", c.periodic)
		if c.periodic {
			assert.Equal(t, 4897, g.Sizes()[0])
		}
	}
}

func TestFoFAbacusReference(t *testing.T) {
	s := abacus(t)
	g, err := FoF(s.x, s.y, s.z, s.space, s.link)
	require.NoError(t, err)
	assert.Equal(t, 110433, g.Count())
	assert.Equal(t, 21842, g.CountMin(2))
	assert.Equal(t, 680, g.CountMin(20))
	assert.Equal(t, []int{14968, 9070, 3362, 2203, 2060}, g.Sizes()[:5])
}

func TestFoFHaccNoGroups(t *testing.T) {
	s := hacc(t)
	g, err := FoF(s.x, s.y, s.z, s.space, s.link)
	require.NoError(t, err)
	assert.Equal(t, 0, g.CountMin(2))
	assert.Equal(t, len(s.x), g.Count())
}
