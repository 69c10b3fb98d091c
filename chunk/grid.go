package chunk

import "fmt"

// Grid is a regular grid of chunks over an array. Chunk (c0, c1, ...) covers
// [ci*chunk[i], min((ci+1)*chunk[i], shape[i])) in dimension i, so the last
// chunk of a dimension is partial when the chunk size does not divide the
// array size.
type Grid struct {
	shape  Shape
	chunk  Shape
	counts []int
}

// NewGrid returns the grid of chunks of chunkShape over an array of shape.
// Every chunk dimension must be at least 1; an array dimension of size 0 has
// no chunks.
func NewGrid(shape, chunkShape Shape) (*Grid, error) {
	if err := shape.Validate(); err != nil {
		return nil, err
	}
	if len(chunkShape) != len(shape) {
		return nil, fmt.Errorf("chunk shape %v has %d dimensions, the array shape %v has %d", []int(chunkShape), len(chunkShape), []int(shape), len(shape))
	}
	counts := make([]int, len(shape))
	for i, c := range chunkShape {
		if c < 1 {
			return nil, fmt.Errorf("chunk shape %v: dimension %d has size %d, allowed are sizes of 1 or more", []int(chunkShape), i, c)
		}
		counts[i] = (shape[i] + c - 1) / c
	}
	return &Grid{shape: shape.Clone(), chunk: chunkShape.Clone(), counts: counts}, nil
}

// Shape returns the array shape.
func (g *Grid) Shape() Shape { return g.shape }

// ChunkShape returns the shape of a full chunk.
func (g *Grid) ChunkShape() Shape { return g.chunk }

// Counts returns the number of chunks along each dimension.
func (g *Grid) Counts() []int { return g.counts }

// NumChunks returns the total number of chunks.
func (g *Grid) NumChunks() int { return Shape(g.counts).Count() }

// ChunkRegion returns the part of the array that chunk coords covers,
// clipped to the array.
func (g *Grid) ChunkRegion(coords []int) Region {
	r := Region{Start: make([]int, len(coords)), Stop: make([]int, len(coords))}
	for i, c := range coords {
		r.Start[i] = c * g.chunk[i]
		r.Stop[i] = min(r.Start[i]+g.chunk[i], g.shape[i])
	}
	return r
}

// ChunksOf returns the box of chunk coordinates whose chunks intersect r.
// r must lie inside the array.
func (g *Grid) ChunksOf(r Region) Region {
	out := Region{Start: make([]int, len(r.Start)), Stop: make([]int, len(r.Start))}
	for i := range r.Start {
		out.Start[i] = r.Start[i] / g.chunk[i]
		out.Stop[i] = (r.Stop[i] + g.chunk[i] - 1) / g.chunk[i]
	}
	return out
}

// ForEach calls fn with the coordinates of every chunk that intersects r, in
// C order, which is also the order of chunk keys in the store. fn must not
// keep coords after it returns. ForEach stops at the first error fn returns.
func (g *Grid) ForEach(r Region, fn func(coords []int) error) error {
	box := g.ChunksOf(r)
	if box.Empty() {
		return nil
	}
	coords := append([]int(nil), box.Start...)
	for {
		if err := fn(coords); err != nil {
			return err
		}
		i := len(coords) - 1
		for ; i >= 0; i-- {
			coords[i]++
			if coords[i] < box.Stop[i] {
				break
			}
			coords[i] = box.Start[i]
		}
		if i < 0 {
			return nil
		}
	}
}

// DefaultChunkShape returns a chunk shape of about targetBytes for an array
// of shape with elements of elemSize bytes. It keeps the trailing dimensions
// whole and cuts the leading ones, so that a chunk is a slab of contiguous
// rows: dimensions whose inner part alone reaches targetBytes get chunk size
// 1, and the first dimension that does not is split into equal parts.
func DefaultChunkShape(shape Shape, elemSize, targetBytes int) Shape {
	out := make(Shape, len(shape))
	for i, d := range shape {
		out[i] = max(d, 1)
	}
	inner := elemSize
	for i := len(shape) - 1; i >= 0; i-- {
		inner *= max(shape[i], 1)
	}
	for i, d := range shape {
		d = max(d, 1)
		inner /= d // inner is now the byte size of one index along dimension i
		if inner >= targetBytes {
			out[i] = 1
			continue
		}
		parts := (d*inner + targetBytes - 1) / targetBytes
		out[i] = (d + parts - 1) / parts
		break
	}
	return out
}
