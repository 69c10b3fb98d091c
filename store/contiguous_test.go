package store

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/epsilon-db/epsilon/chunk"
)

func TestContiguousIn(t *testing.T) {
	reg := func(start, stop []int) chunk.Region { return chunk.Region{Start: start, Stop: stop} }
	outer := reg([]int{2, 0, 0}, []int{10, 4, 6})
	cases := []struct {
		name  string
		inner chunk.Region
		off   int
		ok    bool
	}{
		{"whole rows", reg([]int{4, 0, 0}, []int{6, 4, 6}), 2 * 24, true},
		{"part of one row", reg([]int{3, 1, 0}, []int{4, 3, 6}), 24 + 6, true},
		{"run in the last dimension", reg([]int{3, 1, 2}, []int{4, 2, 5}), 24 + 6 + 2, true},
		{"short rows", reg([]int{4, 0, 0}, []int{6, 4, 5}), 0, false},
		{"two partial planes", reg([]int{4, 1, 0}, []int{6, 3, 6}), 0, false},
		{"sticks out", reg([]int{8, 0, 0}, []int{12, 4, 6}), 0, false},
		{"outside", reg([]int{0, 0, 0}, []int{2, 4, 6}), 0, false},
	}
	for _, c := range cases {
		off, ok := contiguousIn(c.inner, outer)
		assert.Equal(t, c.ok, ok, c.name)
		if c.ok {
			assert.Equal(t, c.off, off, c.name)
		}
	}
}
