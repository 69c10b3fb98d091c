package codecs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLorenzoGeometry(t *testing.T) {
	cases := []struct {
		shape []int
		want  lorenzoGeometry
	}{
		{[]int{1}, lorenzoGeometry{planes: 1, slabPlanes: 1, rows: 1, cols: 1, dims: 1}},
		{[]int{1, 1, 1}, lorenzoGeometry{planes: 1, slabPlanes: 1, rows: 1, cols: 1, dims: 1}},
		{[]int{7}, lorenzoGeometry{planes: 7, slabPlanes: 7, rows: 1, cols: 1, dims: 1}},
		{[]int{1, 7, 1}, lorenzoGeometry{planes: 7, slabPlanes: 7, rows: 1, cols: 1, dims: 1}},
		{[]int{5, 7}, lorenzoGeometry{planes: 5, slabPlanes: 5, rows: 1, cols: 7, dims: 2}},
		{[]int{1, 96, 144}, lorenzoGeometry{planes: 96, slabPlanes: 96, rows: 1, cols: 144, dims: 2}},
		{[]int{3, 5, 7}, lorenzoGeometry{planes: 3, slabPlanes: 3, rows: 5, cols: 7, dims: 3}},
		{[]int{2, 3, 5, 7}, lorenzoGeometry{planes: 6, slabPlanes: 3, rows: 5, cols: 7, dims: 3}},
		{[]int{2, 1, 2, 3, 1, 5, 7}, lorenzoGeometry{planes: 12, slabPlanes: 3, rows: 5, cols: 7, dims: 3}},
	}
	for _, c := range cases {
		require.Equal(t, c.want, newLorenzoGeometry(c.shape), "shape %v", c.shape)
	}
}

func TestRoundMagic(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{0.4, 0}, {0.5, 0}, {1.5, 2}, {2.5, 2}, {-0.6, -1}, {-32766.5, -32766}, {1e6 + 0.7, 1e6 + 1},
	} {
		got := float64(c.in+roundMagic) - roundMagic
		require.Equal(t, c.want, got, "round(%v)", c.in)
	}
}
