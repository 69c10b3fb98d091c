package chunk

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// copyNaive is the reference for Copy: one index computation per value.
func copyNaive(dst []float64, dstShape Shape, dstStart []int, src []float64, srcShape Shape, srcStart []int, count Shape) {
	ds, ss := strides(dstShape), strides(srcShape)
	idx := make([]int, len(count))
	for k := 0; k < count.Count(); k++ {
		rem := k
		for i := len(count) - 1; i >= 0; i-- {
			idx[i] = rem % count[i]
			rem /= count[i]
		}
		d, s := 0, 0
		for i := range idx {
			d += (dstStart[i] + idx[i]) * ds[i]
			s += (srcStart[i] + idx[i]) * ss[i]
		}
		dst[d] = src[s]
	}
}

func TestCopyMatchesNaive(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for iter := 0; iter < 2000; iter++ {
		ndim := 1 + rng.IntN(MaxDims)
		srcShape, dstShape, count := make(Shape, ndim), make(Shape, ndim), make(Shape, ndim)
		srcStart, dstStart := make([]int, ndim), make([]int, ndim)
		for i := 0; i < ndim; i++ {
			maxDim := 7
			if ndim > 4 {
				maxDim = 3
			}
			count[i] = 1 + rng.IntN(maxDim)
			srcStart[i] = rng.IntN(2)
			dstStart[i] = rng.IntN(2)
			srcShape[i] = srcStart[i] + count[i] + rng.IntN(2)
			dstShape[i] = dstStart[i] + count[i] + rng.IntN(2)
		}
		src := make([]float64, srcShape.Count())
		for i := range src {
			src[i] = float64(i + 1)
		}
		got := make([]float64, dstShape.Count())
		want := make([]float64, dstShape.Count())
		Copy(got, dstShape, dstStart, src, srcShape, srcStart, count)
		copyNaive(want, dstShape, dstStart, src, srcShape, srcStart, count)
		require.Equal(t, want, got, "src %v@%v dst %v@%v count %v", srcShape, srcStart, dstShape, dstStart, count)
	}
}

func TestRunsCoverBox(t *testing.T) {
	shape := Shape{4, 5, 6}
	start := []int{1, 0, 0}
	count := Shape{2, 5, 6}
	var runs [][2]int
	require.NoError(t, Runs(shape, start, count, func(off, n int) error {
		runs = append(runs, [2]int{off, n})
		return nil
	}))
	require.Equal(t, [][2]int{{30, 60}}, runs, "whole trailing dimensions merge into one run")

	runs = nil
	require.NoError(t, Runs(shape, []int{0, 1, 2}, Shape{2, 2, 3}, func(off, n int) error {
		runs = append(runs, [2]int{off, n})
		return nil
	}))
	require.Equal(t, [][2]int{{8, 3}, {14, 3}, {38, 3}, {44, 3}}, runs)
}

func TestGridEdgeChunks(t *testing.T) {
	g, err := NewGrid(Shape{10, 7}, Shape{4, 7})
	require.NoError(t, err)
	require.Equal(t, []int{3, 1}, g.Counts())
	require.Equal(t, 3, g.NumChunks())
	last := g.ChunkRegion([]int{2, 0})
	require.Equal(t, []int{8, 0}, last.Start)
	require.Equal(t, []int{10, 7}, last.Stop)

	var seen [][]int
	r := Region{Start: []int{3, 2}, Stop: []int{9, 3}}
	require.NoError(t, g.ForEach(r, func(c []int) error {
		seen = append(seen, append([]int(nil), c...))
		return nil
	}))
	require.Equal(t, [][]int{{0, 0}, {1, 0}, {2, 0}}, seen)
}

func TestGridForEachCOrder(t *testing.T) {
	g, err := NewGrid(Shape{5, 5, 5}, Shape{2, 2, 2})
	require.NoError(t, err)
	var seen [][]int
	require.NoError(t, g.ForEach(Full(g.Shape()), func(c []int) error {
		seen = append(seen, append([]int(nil), c...))
		return nil
	}))
	require.Len(t, seen, 27)
	require.Equal(t, []int{0, 0, 0}, seen[0])
	require.Equal(t, []int{0, 0, 1}, seen[1])
	require.Equal(t, []int{2, 2, 2}, seen[26])
}

func TestGridEmptyArray(t *testing.T) {
	g, err := NewGrid(Shape{0, 4}, Shape{1, 4})
	require.NoError(t, err)
	require.Equal(t, 0, g.NumChunks())
	calls := 0
	require.NoError(t, g.ForEach(Full(g.Shape()), func([]int) error { calls++; return nil }))
	require.Equal(t, 0, calls)
}

func TestGridRejectsZeroChunk(t *testing.T) {
	_, err := NewGrid(Shape{4, 4}, Shape{2, 0})
	require.ErrorContains(t, err, "dimension 1 has size 0")
	_, err = NewGrid(Shape{4, 4}, Shape{2})
	require.ErrorContains(t, err, "has 1 dimensions")
}

func TestShapeValidate(t *testing.T) {
	require.NoError(t, Shape{1}.Validate())
	require.NoError(t, Shape{0, 3}.Validate())
	require.ErrorContains(t, Shape{}.Validate(), "allowed are 1 to 8")
	require.ErrorContains(t, Shape{1, 1, 1, 1, 1, 1, 1, 1, 1}.Validate(), "allowed are 1 to 8")
	require.ErrorContains(t, Shape{3, -1}.Validate(), "dimension 1 has size -1")
}

func TestParseShape(t *testing.T) {
	s, err := ParseShape("10,192,288")
	require.NoError(t, err)
	require.Equal(t, Shape{10, 192, 288}, s)
	s, err = ParseShape("4x5")
	require.NoError(t, err)
	require.Equal(t, Shape{4, 5}, s)
	_, err = ParseShape("4,a")
	require.ErrorContains(t, err, `size "a" is not an integer`)
}

func TestParseRegion(t *testing.T) {
	shape := Shape{10, 192, 288}
	r, err := ParseRegion("2:5,10:100,7:250", shape)
	require.NoError(t, err)
	require.Equal(t, []int{2, 10, 7}, r.Start)
	require.Equal(t, []int{5, 100, 250}, r.Stop)

	r, err = ParseRegion("3,:,100:", shape)
	require.NoError(t, err)
	require.Equal(t, []int{3, 0, 100}, r.Start)
	require.Equal(t, []int{4, 192, 288}, r.Stop)

	r, err = ParseRegion("", shape)
	require.NoError(t, err)
	require.True(t, r.Equal(Full(shape)))

	_, err = ParseRegion("2:5,10:100", shape)
	require.ErrorContains(t, err, "has 2 ranges, the array has 3 dimensions")
	_, err = ParseRegion("2:5,10:100,7:289", shape)
	require.ErrorContains(t, err, "outside the array, allowed is 0:288")
	_, err = ParseRegion("5:5,:,:", shape)
	require.ErrorContains(t, err, "start 5 >= stop 5")
	_, err = ParseRegion("-1:2,:,:", shape)
	require.ErrorContains(t, err, "outside the array")
}

func TestDefaultChunkShape(t *testing.T) {
	const MiB = 1 << 20
	cases := []struct {
		shape Shape
		size  int
		want  Shape
	}{
		{Shape{10, 192, 288}, 4, Shape{4, 192, 288}},
		{Shape{999, 999}, 4, Shape{250, 999}},
		{Shape{91, 91, 91}, 4, Shape{31, 91, 91}},
		{Shape{32, 32, 32}, 4, Shape{32, 32, 32}},
		{Shape{4, 1024, 1024}, 8, Shape{1, 128, 1024}},
		{Shape{0, 5}, 4, Shape{1, 5}},
		{Shape{7}, 4, Shape{7}},
	}
	for _, c := range cases {
		got := DefaultChunkShape(c.shape, c.size, MiB)
		require.Equal(t, c.want, got, "shape %v", c.shape)
		require.LessOrEqual(t, got.Count()*c.size, 2*MiB, "shape %v", c.shape)
	}
}

func TestRegionIntersect(t *testing.T) {
	a := Region{Start: []int{0, 0}, Stop: []int{4, 4}}
	b := Region{Start: []int{2, 3}, Stop: []int{6, 8}}
	r, ok := a.Intersect(b)
	require.True(t, ok)
	require.Equal(t, []int{2, 3}, r.Start)
	require.Equal(t, []int{4, 4}, r.Stop)
	_, ok = a.Intersect(Region{Start: []int{4, 0}, Stop: []int{5, 1}})
	require.False(t, ok)
}
