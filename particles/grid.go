package particles

import (
	"math"
	"slices"
)

// maxCellsPerDim caps the cell grid along each dimension, so the cell keys of
// a 3-D grid fit 30 bits and a radius far below the box still builds a grid
// of bounded size. Cells are then larger than the radius, which is correct
// but tests more pairs.
const maxCellsPerDim = 1 << 10

// Space is the geometry that distances are measured in: the box edge and
// whether the box is periodic. Distances in a periodic box use the minimum
// image along each axis.
type Space struct {
	Box      float64
	Periodic bool
}

// delta returns a - b along one axis, wrapped to the minimum image in a
// periodic box. Values up to half a box outside [0, Box) wrap correctly.
func (s Space) delta(a, b float64) float64 {
	d := a - b
	if s.Periodic {
		half := 0.5 * s.Box
		if d > half {
			d -= s.Box
		} else if d < -half {
			d += s.Box
		}
	}
	return d
}

// dist2 returns the squared distance of particles i and j in float64. The
// explicit conversions round each product, so no machine fuses them into a
// multiply-add and every machine computes the same bits.
func (s Space) dist2(x, y, z []float64, i, j int) float64 {
	dx := s.delta(x[i], x[j])
	dy := s.delta(y[i], y[j])
	dz := s.delta(z[i], z[j])
	return float64(dx*dx) + float64(dy*dy) + float64(dz*dz)
}

// cellGrid bins particles into cubic cells. Every pair closer than the
// radius it was built for sits in cells at most reach apart along each
// axis.
type cellGrid struct {
	space  Space
	origin [3]float64
	size   float64 // cell edge
	n      int     // cells per dimension
	reach  int
	// offsets are the cell offsets to visit from a cell, each unordered
	// pair of cells once: the half of [-reach, reach]^3 whose first nonzero
	// component is positive. When the periodic grid has fewer than
	// 2*reach+1 cells per dimension, two offsets can reach the same cell,
	// so offsets then holds every offset and neighbors removes duplicates.
	offsets [][3]int
	dedupe  bool
}

// newCellGrid returns a grid whose cells have an edge of at most edge
// (periodic) or exactly edge (isolated), unless the grid would then have
// more than maxCellsPerDim cells per dimension, and whose reach covers pairs
// up to radius apart.
func newCellGrid(space Space, x, y, z []float64, edge, radius float64) cellGrid {
	g := cellGrid{space: space}
	if space.Periodic {
		g.n = clampCells(math.Ceil(space.Box / edge))
		g.size = space.Box / float64(g.n)
	} else {
		extent := 0.0
		for d, v := range [3][]float64{x, y, z} {
			if len(v) == 0 {
				continue
			}
			a, b := slices.Min(v), slices.Max(v)
			g.origin[d] = a
			extent = max(extent, b-a)
		}
		// n cells of this edge cover the extent; coord clamps the particle
		// at the far end into the last cell.
		g.n = clampCells(math.Floor(extent/edge) + 1)
		g.size = max(edge, extent/float64(g.n))
	}
	g.reach = max(1, int(math.Ceil(radius/g.size)))
	g.dedupe = space.Periodic && g.n < 2*g.reach+1
	r2 := float64(radius * radius)
	k := g.reach
	for dx := -k; dx <= k; dx++ {
		for dy := -k; dy <= k; dy++ {
			for dz := -k; dz <= k; dz++ {
				off := [3]int{dx, dy, dz}
				if off == [3]int{} || (!g.dedupe && !positiveHalf(off)) {
					continue
				}
				// Skip offsets whose cells are farther apart than radius.
				gap := 0.0
				for _, o := range off {
					if a := max(0, absInt(o)-1); a > 0 {
						s := float64(a) * g.size
						gap += float64(s * s)
					}
				}
				if gap <= r2 {
					g.offsets = append(g.offsets, off)
				}
			}
		}
	}
	return g
}

func positiveHalf(off [3]int) bool {
	for _, o := range off {
		if o != 0 {
			return o > 0
		}
	}
	return false
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func clampCells(v float64) int {
	if !(v >= 1) {
		return 1
	}
	return int(min(v, maxCellsPerDim))
}

// coord returns the cell coordinate of position v along dimension d.
func (g *cellGrid) coord(v float64, d int) int {
	c := math.Floor((v - g.origin[d]) / g.size)
	if g.space.Periodic {
		c = math.Mod(c, float64(g.n))
		if c < 0 {
			c += float64(g.n)
		}
		return int(c)
	}
	return int(max(0, min(c, float64(g.n-1))))
}

func (g *cellGrid) key(c [3]int) uint64 {
	return (uint64(c[0])*uint64(g.n)+uint64(c[1]))*uint64(g.n) + uint64(c[2])
}

// cellOf returns the key of the cell of particle i.
func (g *cellGrid) cellOf(x, y, z []float64, i int) uint64 {
	return g.key([3]int{g.coord(x[i], 0), g.coord(y[i], 1), g.coord(z[i], 2)})
}

// neighbors appends to dst the keys of the cells that pair with the cell at
// key, such that visiting every cell and its neighbors visits each pair of
// distinct cells within reach once.
func (g *cellGrid) neighbors(dst []uint64, key uint64) []uint64 {
	n := uint64(g.n)
	c := [3]int{int(key / (n * n)), int(key / n % n), int(key % n)}
	dst = dst[:0]
	for _, off := range g.offsets {
		var nc [3]int
		ok := true
		for d := range 3 {
			v := c[d] + off[d]
			if g.space.Periodic {
				v = ((v % g.n) + g.n) % g.n
			} else if v < 0 || v >= g.n {
				ok = false
				break
			}
			nc[d] = v
		}
		if !ok {
			continue
		}
		nkey := g.key(nc)
		if g.dedupe && (nkey <= key || slices.Contains(dst, nkey)) {
			continue
		}
		dst = append(dst, nkey)
	}
	return dst
}

// cellList is a cellGrid with the particles sorted by cell.
type cellList struct {
	cellGrid
	order  []int32  // particle indices sorted by cell key, then index
	keys   []uint64 // distinct occupied cell keys, increasing
	starts []int32  // particles of cell keys[c] are order[starts[c]:starts[c+1]]
	table  keyTable
}

func newCellList(space Space, x, y, z []float64, edge, radius float64) *cellList {
	cl := &cellList{cellGrid: newCellGrid(space, x, y, z, edge, radius)}
	n := len(x)
	cellKeys := make([]uint64, n)
	for i := range n {
		cellKeys[i] = cl.cellOf(x, y, z, i)
	}
	cl.order = sortByKey(cellKeys)
	for k, i := range cl.order {
		key := cellKeys[i]
		if len(cl.keys) == 0 || cl.keys[len(cl.keys)-1] != key {
			cl.keys = append(cl.keys, key)
			cl.starts = append(cl.starts, int32(k))
		}
	}
	cl.starts = append(cl.starts, int32(n))
	cl.table = newKeyTable(cl.keys)
	return cl
}

// members returns the particles of occupied cell c.
func (cl *cellList) members(c int) []int32 { return cl.order[cl.starts[c]:cl.starts[c+1]] }

// forEachPair calls fn for every pair i < j with squared distance at most
// r2, visiting cells in key order, so the order of calls depends only on the
// positions.
func (cl *cellList) forEachPair(x, y, z []float64, r2 float64, fn func(i, j int, d2 float64)) {
	sw := cl.newSweep()
	for c := range cl.keys {
		a := cl.members(c)
		for p, i := range a {
			for _, j := range a[p+1:] {
				cl.visit(x, y, z, int(i), int(j), r2, fn)
			}
		}
		sw.each(c, func(nc int) bool {
			for _, i := range a {
				for _, j := range cl.members(nc) {
					cl.visit(x, y, z, int(i), int(j), r2, fn)
				}
			}
			return true
		})
	}
}

// sweep finds the occupied neighbor cells of each cell, for cells taken in
// increasing key order. Each unordered pair of cells within reach comes up
// once: from the cell with the smaller key when the grid dedupes, and
// otherwise from the cell whose offset to the other is in the positive
// half.
//
// Without dedupe it looks up runs of keys along z in the sorted key list,
// one run per column of neighbor cells, and starts each search where the
// same column's search for the previous cell ended: consecutive cells have
// consecutive ranges, so the searches move forward by a few keys. A small
// periodic grid uses the hash table.
type sweep struct {
	cl      *cellList
	columns [][2]int // (dx, dy) of the positive-half columns, (0, 0) first
	hints   []int
	nb      []uint64
}

func (cl *cellList) newSweep() *sweep {
	sw := &sweep{cl: cl}
	k := cl.reach
	sw.columns = append(sw.columns, [2]int{0, 0})
	for dx := 0; dx <= k; dx++ {
		for dy := -k; dy <= k; dy++ {
			if dx > 0 || dy > 0 {
				sw.columns = append(sw.columns, [2]int{dx, dy})
			}
		}
	}
	sw.hints = make([]int, len(sw.columns))
	return sw
}

// each calls fn for each neighbor cell of occupied cell c until fn returns
// false.
func (sw *sweep) each(c int, fn func(nc int) bool) {
	cl := sw.cl
	key := cl.keys[c]
	if cl.dedupe {
		sw.nb = cl.neighbors(sw.nb, key)
		for _, nkey := range sw.nb {
			if nc, ok := cl.table.lookup(nkey); ok && !fn(nc) {
				return
			}
		}
		return
	}
	n := cl.n
	un := uint64(n)
	cx, cy, cz := int(key/(un*un)), int(key/un%un), int(key%un)
	k := cl.reach
	for col, d := range sw.columns {
		x, y := cx+d[0], cy+d[1]
		if cl.space.Periodic {
			x, y = (x+n)%n, (y+n)%n
		} else if x >= n || y < 0 || y >= n {
			continue
		}
		z0, z1 := cz-k, cz+k
		if d == [2]int{} {
			z0 = cz + 1
		}
		base := (uint64(x)*un + uint64(y)) * un
		var ranges [2][2]int
		nr := 0
		switch {
		case !cl.space.Periodic:
			ranges[0], nr = [2]int{max(z0, 0), min(z1, n-1)}, 1
		case z0 < 0:
			ranges[0], ranges[1], nr = [2]int{0, z1}, [2]int{z0 + n, n - 1}, 2
		case z1 >= n:
			ranges[0], ranges[1], nr = [2]int{z0, n - 1}, [2]int{0, z1 - n}, 2
		default:
			ranges[0], nr = [2]int{z0, z1}, 1
		}
		for r := range nr {
			if ranges[r][0] > ranges[r][1] {
				continue
			}
			lo, hi := base+uint64(ranges[r][0]), base+uint64(ranges[r][1])
			p := lowerBound(cl.keys, lo, sw.hints[col])
			if r == 0 {
				sw.hints[col] = p
			}
			for ; p < len(cl.keys) && cl.keys[p] <= hi; p++ {
				if !fn(p) {
					return
				}
			}
		}
	}
}

// lowerBound returns the first index of the sorted keys at or above target,
// searching forward from hint by doubling steps when hint is at or below
// the answer, and over the whole slice otherwise.
func lowerBound(keys []uint64, target uint64, hint int) int {
	if hint < 0 || hint > len(keys) || (hint > 0 && keys[hint-1] >= target) {
		lo, hi := 0, len(keys)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if keys[m] < target {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return lo
	}
	lo, step := hint, 1
	for lo+step <= len(keys) && keys[lo+step-1] < target {
		lo += step
		step *= 2
	}
	hi := min(lo+step, len(keys))
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if keys[m] < target {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (cl *cellList) visit(x, y, z []float64, i, j int, r2 float64, fn func(i, j int, d2 float64)) {
	if d2 := cl.space.dist2(x, y, z, i, j); d2 <= r2 {
		if i > j {
			i, j = j, i
		}
		fn(i, j, d2)
	}
}

// sortByKey returns the indices 0..len(keys)-1 sorted by key, ties in index
// order, with a least-significant-digit radix sort of 11 bits per pass.
func sortByKey(keys []uint64) []int32 {
	n := len(keys)
	order := make([]int32, n)
	tmp := make([]int32, n)
	var maxKey uint64
	for i, k := range keys {
		order[i] = int32(i)
		maxKey = max(maxKey, k)
	}
	const bits = 11
	for shift := uint(0); shift < 64 && maxKey>>shift > 0; shift += bits {
		var count [1<<bits + 1]int
		for _, i := range order {
			count[(keys[i]>>shift)&(1<<bits-1)+1]++
		}
		for b := 1; b < len(count); b++ {
			count[b] += count[b-1]
		}
		for _, i := range order {
			d := (keys[i] >> shift) & (1<<bits - 1)
			tmp[count[d]] = i
			count[d]++
		}
		order, tmp = tmp, order
	}
	return order
}

// keyTable maps cell keys to their positions in a key list with open
// addressing. It is only looked up, never iterated.
type keyTable struct {
	slots []int32 // index into keys plus one; 0 is empty
	keys  []uint64
	mask  uint64
}

func newKeyTable(keys []uint64) keyTable {
	size := 16
	for size < 2*len(keys) {
		size *= 2
	}
	t := keyTable{slots: make([]int32, size), keys: keys, mask: uint64(size - 1)}
	for i, k := range keys {
		h := hashKey(k) & t.mask
		for t.slots[h] != 0 {
			h = (h + 1) & t.mask
		}
		t.slots[h] = int32(i + 1)
	}
	return t
}

func (t *keyTable) lookup(k uint64) (int, bool) {
	for h := hashKey(k) & t.mask; ; h = (h + 1) & t.mask {
		s := t.slots[h]
		if s == 0 {
			return 0, false
		}
		if t.keys[s-1] == k {
			return int(s - 1), true
		}
	}
}

func hashKey(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	return k
}
