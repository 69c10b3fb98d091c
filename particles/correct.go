package particles

import (
	"math"
	"slices"

	"github.com/epsilon-db/epsilon/codecs"
)

// maxCorrectionSteps is the number of projected gradient steps the
// correction takes at most. The encoder simulates exactly these steps, so
// changing it changes what stored data decodes to: it is part of format
// version 1.
const maxCorrectionSteps = 64

// correction is what the decoder needs beyond the decoded positions: the
// pairs whose linked status must flip, and the particles stored exactly.
// Indices are in stored (curve) order.
type correction struct {
	pairs [][2]int32 // i < j, sorted
	exact []int32    // sorted, distinct
	// exactPos holds the original x, y and z of each exact particle.
	exactPos [3][]float64
}

// geometry is what the correction works in.
type geometry struct {
	space  Space
	link   float64
	margin float64 // how far the correction may move a coordinate
	dtype  codecs.DType
}

// reach returns how much the distance of a pair can change when both
// particles move by at most margin per coordinate, with a little slack for
// rounding.
func (g geometry) reach() float64 { return 2 * math.Sqrt(3) * g.margin * (1 + 1e-6) }

// constraint is a pair whose linked status the correction must reach.
type constraint struct {
	i, j   int32
	linked bool
}

// applyCorrection moves the decoded positions x, y, z (stored order) so that
// the flagged pairs flip their linked status while every other pair within
// reach of a moving particle keeps its status. It first sets the exact
// particles. Only particles of flagged pairs move, each coordinate inside
// [decoded - margin, decoded + margin], rounded to the dtype after every
// step. It returns the constraints still unmet after maxCorrectionSteps.
//
// The steps run on one goroutine in a fixed order, with rounded float64
// arithmetic, so every machine computes the same positions.
func applyCorrection(x, y, z []float64, corr *correction, g geometry) []constraint {
	pos := [3][]float64{x, y, z}
	movable := make([]bool, len(x))
	for k, i := range corr.exact {
		for d := range 3 {
			pos[d][i] = corr.exactPos[d][k]
		}
	}
	var active []int32
	for _, p := range corr.pairs {
		for _, i := range p {
			if !movable[i] {
				movable[i] = true
				active = append(active, i)
			}
		}
	}
	for _, i := range corr.exact {
		movable[i] = false
	}
	active = slices.DeleteFunc(active, func(i int32) bool { return !movable[i] })
	slices.Sort(active)

	cons := buildConstraints(x, y, z, corr.pairs, active, movable, g)
	if len(cons) == 0 {
		return nil
	}

	// Each moving coordinate stays in [lo, hi], the dtype values within
	// margin of its decoded value.
	slot := make(map[int32]int, len(active))
	lo := make([][3]float64, len(active))
	hi := make([][3]float64, len(active))
	for k, i := range active {
		slot[i] = k
		for d := range 3 {
			lo[k][d], hi[k][d] = moveRange(pos[d][i], g.margin, g.dtype)
		}
	}
	step := make([][3]float64, len(active))
	count := make([]int, len(active))
	eps := 0.1 * g.margin
	link2 := float64(g.link * g.link)
	for range maxCorrectionSteps {
		if countUnmet(x, y, z, cons, g.space, link2) == 0 {
			return nil
		}
		clear(step)
		clear(count)
		for _, c := range cons {
			i, j := int(c.i), int(c.j)
			delta := [3]float64{g.space.delta(x[i], x[j]), g.space.delta(y[i], y[j]), g.space.delta(z[i], z[j])}
			d := math.Sqrt(float64(delta[0]*delta[0]) + float64(delta[1]*delta[1]) + float64(delta[2]*delta[2]))
			var gap float64 // how far i and j must move apart (negative: together)
			switch {
			case c.linked && d > g.link-eps:
				gap = (g.link - eps) - d
			case !c.linked && d < g.link+eps:
				gap = (g.link + eps) - d
			default:
				continue
			}
			u := [3]float64{1, 0, 0}
			if d > 0 {
				u = [3]float64{delta[0] / d, delta[1] / d, delta[2] / d}
			}
			share := 0.5
			if !movable[i] || !movable[j] {
				share = 1
			}
			if movable[i] {
				k := slot[c.i]
				for a := range 3 {
					step[k][a] += float64(share * gap * u[a])
				}
				count[k]++
			}
			if movable[j] {
				k := slot[c.j]
				for a := range 3 {
					step[k][a] -= float64(share * gap * u[a])
				}
				count[k]++
			}
		}
		for k, i := range active {
			if count[k] == 0 {
				continue
			}
			for d := range 3 {
				v := pos[d][i] + step[k][d]/float64(count[k])
				pos[d][i] = roundInto(v, lo[k][d], hi[k][d], g.dtype)
			}
		}
	}
	var unmet []constraint
	for _, c := range cons {
		if Linked(g.space.dist2(x, y, z, int(c.i), int(c.j)), g.link) != c.linked {
			unmet = append(unmet, c)
		}
	}
	return unmet
}

func countUnmet(x, y, z []float64, cons []constraint, space Space, link2 float64) int {
	n := 0
	for _, c := range cons {
		if (space.dist2(x, y, z, int(c.i), int(c.j)) <= link2) != c.linked {
			n++
		}
	}
	return n
}

// buildConstraints returns the flagged pairs with their flipped status, and
// every other pair of a movable particle whose distance is within reach of
// the linking length, with its current status, sorted by (i, j).
func buildConstraints(x, y, z []float64, flagged [][2]int32, active []int32, movable []bool, g geometry) []constraint {
	var cons []constraint
	for _, p := range flagged {
		linked := Linked(g.space.dist2(x, y, z, int(p[0]), int(p[1])), g.link)
		cons = append(cons, constraint{p[0], p[1], !linked})
	}
	if len(active) == 0 {
		return cons
	}
	reach := g.reach()
	radius := g.link + reach
	inner, outer := g.link-reach, radius
	inner2 := float64(max(inner, 0) * max(inner, 0))
	outer2 := float64(outer * outer)
	neighborPairs(x, y, z, active, g.space, radius, func(i, j int32, d2 float64) {
		if d2 < inner2 || d2 > outer2 {
			return
		}
		if _, flaggedPair := slices.BinarySearchFunc(flagged, [2]int32{i, j}, comparePairs); flaggedPair {
			return
		}
		cons = append(cons, constraint{i, j, Linked(d2, g.link)})
	})
	slices.SortFunc(cons, func(a, b constraint) int { return comparePairs([2]int32{a.i, a.j}, [2]int32{b.i, b.j}) })
	return slices.CompactFunc(cons, func(a, b constraint) bool { return a.i == b.i && a.j == b.j })
}

func comparePairs(a, b [2]int32) int {
	if a[0] != b[0] {
		return int(a[0] - b[0])
	}
	return int(a[1] - b[1])
}

// neighborPairs calls fn once for each pair (i < j) with i or j in active
// (sorted) and distance at most radius. It scans every particle once to
// find those in cells next to an active particle, so its cost is linear in
// the particle count plus the pairs near active particles.
func neighborPairs(x, y, z []float64, active []int32, space Space, radius float64, fn func(i, j int32, d2 float64)) {
	grid := newCellGrid(space, x, y, z, radius, radius)
	// The cells next to an active particle's cell, itself included.
	var wanted []uint64
	all := grid.allOffsets()
	for _, a := range active {
		key := grid.cellOf(x, y, z, int(a))
		wanted = grid.appendAround(wanted, key, all)
	}
	slices.Sort(wanted)
	wanted = slices.Compact(wanted)
	table := newKeyTable(wanted)
	// Bucket the particles of the wanted cells, in index order.
	start := make([]int32, len(wanted)+1)
	cellOf := make([]int32, len(x))
	for i := range x {
		c, ok := table.lookup(grid.cellOf(x, y, z, i))
		cellOf[i] = -1
		if ok {
			cellOf[i] = int32(c)
			start[c+1]++
		}
	}
	for c := range wanted {
		start[c+1] += start[c]
	}
	members := make([]int32, start[len(wanted)])
	fill := slices.Clone(start[:len(wanted)])
	for i, c := range cellOf {
		if c >= 0 {
			members[fill[c]] = int32(i)
			fill[c]++
		}
	}
	isActive := func(q int32) bool { _, ok := slices.BinarySearch(active, q); return ok }
	r2 := float64(radius * radius)
	var around []uint64
	for _, a := range active {
		around = grid.appendAround(around[:0], grid.cellOf(x, y, z, int(a)), all)
		for _, key := range around {
			c, _ := table.lookup(key)
			for _, q := range members[start[c]:start[c+1]] {
				if q == a || (q < a && isActive(q)) {
					continue // the pair comes up from q, or is a itself
				}
				if d2 := space.dist2(x, y, z, int(a), int(q)); d2 <= r2 {
					fn(min(a, q), max(a, q), d2)
				}
			}
		}
	}
}

// allOffsets returns every offset of [-reach, reach]^3.
func (g *cellGrid) allOffsets() [][3]int {
	var out [][3]int
	k := g.reach
	for dx := -k; dx <= k; dx++ {
		for dy := -k; dy <= k; dy++ {
			for dz := -k; dz <= k; dz++ {
				out = append(out, [3]int{dx, dy, dz})
			}
		}
	}
	return out
}

// appendAround appends the distinct keys of the cells at the given offsets
// from the cell at key.
func (g *cellGrid) appendAround(dst []uint64, key uint64, offsets [][3]int) []uint64 {
	n := uint64(g.n)
	c := [3]int{int(key / (n * n)), int(key / n % n), int(key % n)}
	first := len(dst)
	for _, off := range offsets {
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
		if k := g.key(nc); ok && !slices.Contains(dst[first:], k) {
			dst = append(dst, k)
		}
	}
	return dst
}

// moveRange returns the smallest and largest values of dtype within margin
// of v.
func moveRange(v, margin float64, dtype codecs.DType) (lo, hi float64) {
	lo, hi = v-margin, v+margin
	if dtype != codecs.Float32 {
		// Keep |lo - v| <= margin after rounding.
		for v-lo > margin {
			lo = math.Nextafter(lo, v)
		}
		for hi-v > margin {
			hi = math.Nextafter(hi, v)
		}
		return lo, hi
	}
	l, h := float32(lo), float32(hi)
	for float64(l) < lo || v-float64(l) > margin {
		l = math.Nextafter32(l, float32(math.Inf(1)))
	}
	for float64(h) > hi || float64(h)-v > margin {
		h = math.Nextafter32(h, float32(math.Inf(-1)))
	}
	if float64(l) > v || float64(h) < v {
		return v, v // no room: margin below the spacing of float32 here
	}
	return float64(l), float64(h)
}

// roundInto rounds v to the dtype and clamps it to [lo, hi], whose ends are
// values of the dtype.
func roundInto(v, lo, hi float64, dtype codecs.DType) float64 {
	if dtype == codecs.Float32 {
		v = float64(float32(v))
	}
	return max(lo, min(v, hi))
}
