package particles

import "slices"

// mortonBits is the number of bits per axis of the Morton code that orders
// particles: 21, so three axes fit 63 bits.
const mortonBits = 21

// mortonOrder returns the particle indices sorted by the Morton code (Z
// order) of their positions, ties in index order. The codes quantize each
// axis over the bounding box of the positions to 2^21 steps.
func mortonOrder(x, y, z []float64) []int32 {
	n := len(x)
	keys := make([]uint64, n)
	if n == 0 {
		return nil
	}
	var q [3][]uint64
	for d, v := range [3][]float64{x, y, z} {
		lo, hi := slices.Min(v), slices.Max(v)
		scale := 0.0
		if hi > lo {
			scale = float64(uint64(1)<<mortonBits) / (hi - lo)
		}
		q[d] = make([]uint64, n)
		for i, c := range v {
			s := (c - lo) * scale
			q[d][i] = uint64(min(max(s, 0), float64(uint64(1)<<mortonBits-1)))
		}
	}
	for i := range n {
		keys[i] = spread(q[0][i])<<2 | spread(q[1][i])<<1 | spread(q[2][i])
	}
	return sortByKey(keys)
}

// spread moves bit k of v (k < 21) to bit 3k.
func spread(v uint64) uint64 {
	v &= 0x1fffff
	v = (v | v<<32) & 0x1f00000000ffff
	v = (v | v<<16) & 0x1f0000ff0000ff
	v = (v | v<<8) & 0x100f00f00f00f00f
	v = (v | v<<4) & 0x10c30c30c30c30c3
	v = (v | v<<2) & 0x1249249249249249
	return v
}
