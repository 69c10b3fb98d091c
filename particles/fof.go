package particles

import (
	"fmt"
	"math"
	"slices"
)

// Groups is the result of friends-of-friends: each particle's group label.
type Groups struct {
	// Labels holds, for each particle, the smallest index of a particle in
	// its group, so the labels depend only on the partition.
	Labels []int32
}

// Linked reports whether squared distance d2 links two particles at linking
// length link: d2 <= link*link, both in float64.
func Linked(d2, link float64) bool { return d2 <= float64(link*link) }

// FoF groups particles by friends-of-friends (single linkage): two particles
// are friends when their distance is at most link, and a group is a
// connected set of friends. x, y and z hold the positions; squared distances
// are computed in float64 from them, with the minimum image in a periodic
// space. Positions may lie outside [0, Box) by up to half a box.
//
// FoF bins particles into cells of edge at least link and joins friends with
// union-find, in expected time linear in the number of particles for a
// bounded number of friends per particle.
func FoF(x, y, z []float64, space Space, link float64) (*Groups, error) {
	if err := checkFoF(len(x), len(y), len(z), space, link); err != nil {
		return nil, err
	}
	uf := newUnionFind(len(x))
	if len(x) > 0 {
		// Cells a little below link/sqrt(3) have a diagonal below link.
		cl := newCellList(space, x, y, z, link/math.Sqrt(3)*(1-1e-6), link)
		linkCells(cl, x, y, z, float64(link*link), uf)
	}
	return &Groups{Labels: uf.labels()}, nil
}

func checkFoF(nx, ny, nz int, space Space, link float64) error {
	if nx != ny || nx != nz {
		return fmt.Errorf("position arrays have %d, %d and %d values, expected equal lengths", nx, ny, nz)
	}
	if nx > math.MaxInt32 {
		return fmt.Errorf("%d particles, at most %d are supported", nx, math.MaxInt32)
	}
	return checkGeometry(space, link)
}

func checkGeometry(space Space, link float64) error {
	if !(space.Box > 0) || math.IsInf(space.Box, 0) {
		return fmt.Errorf("invalid box size %v: must be a finite number greater than 0", space.Box)
	}
	if !(link > 0) || math.IsInf(link, 0) {
		return fmt.Errorf("invalid linking length %v: must be a finite number greater than 0", link)
	}
	if link > space.Box/2 {
		return fmt.Errorf("invalid linking length %v: must be at most half the box size %v", link, space.Box)
	}
	return nil
}

// Count returns the number of groups, singletons included.
func (g *Groups) Count() int { return g.CountMin(1) }

// CountMin returns the number of groups with at least minMembers members.
func (g *Groups) CountMin(minMembers int) int {
	n := 0
	for _, s := range g.Sizes() {
		if s >= minMembers {
			n++
		}
	}
	return n
}

// Sizes returns the member count of every group, largest first.
func (g *Groups) Sizes() []int {
	count := make([]int32, len(g.Labels))
	for _, l := range g.Labels {
		count[l]++
	}
	var sizes []int
	for _, c := range count {
		if c > 0 {
			sizes = append(sizes, int(c))
		}
	}
	slices.SortFunc(sizes, func(a, b int) int { return b - a })
	return sizes
}

// Relabelled returns the number of particles whose group in other is not
// the same set of particles as in g. It is 0 exactly when both partitions
// are equal, and counts every member of a group that was split, merged or
// changed in any way.
func (g *Groups) Relabelled(other *Groups) int {
	if len(g.Labels) != len(other.Labels) {
		return max(len(g.Labels), len(other.Labels))
	}
	// With smallest-index labels, equal partitions have equal label arrays,
	// and a group is unchanged when every member carries the same label in
	// both and the group sizes match.
	sizeA := make([]int32, len(g.Labels))
	sizeB := make([]int32, len(g.Labels))
	for i := range g.Labels {
		sizeA[g.Labels[i]]++
		sizeB[other.Labels[i]]++
	}
	bad := make([]bool, len(g.Labels)) // indexed by the label in g
	for i, a := range g.Labels {
		b := other.Labels[i]
		if a != b || sizeA[a] != sizeB[b] {
			bad[a] = true
		}
	}
	n := 0
	for _, a := range g.Labels {
		if bad[a] {
			n++
		}
	}
	return n
}

// unionFind is a disjoint-set forest with path halving and union by index:
// the root of a set is its smallest member.
type unionFind struct{ parent []int32 }

func newUnionFind(n int) *unionFind {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	return &unionFind{parent: p}
}

func (u *unionFind) find(i int) int {
	p := u.parent
	for int(p[i]) != i {
		p[i] = p[p[i]]
		i = int(p[i])
	}
	return i
}

// union joins the sets of i and j and reports whether they were apart.
func (u *unionFind) union(i, j int) bool {
	a, b := u.find(i), u.find(j)
	if a == b {
		return false
	}
	if a < b {
		u.parent[b] = int32(a)
	} else {
		u.parent[a] = int32(b)
	}
	return true
}

// labels returns the root of every element, which is the smallest member of
// its set.
func (u *unionFind) labels() []int32 {
	out := make([]int32, len(u.parent))
	for i := range out {
		out[i] = int32(u.find(i))
	}
	return out
}

// linkCells joins every pair of particles within sqrt(r2) in cl.
//
// When the cell diagonal is below the linking length, every two particles
// of a cell are friends, so linkCells joins each cell whole and, for a pair
// of cells, stops at the first friendly pair or skips the cells when they
// already share a group. This keeps dense regions near linear time. Without
// that property (the cell count was capped), it tests every pair.
func linkCells(cl *cellList, x, y, z []float64, r2 float64, uf *unionFind) {
	diag2 := 3 * float64(cl.size*cl.size)
	if !(diag2 < r2*(1-1e-9)) {
		cl.forEachPair(x, y, z, r2, func(i, j int, _ float64) { uf.union(i, j) })
		return
	}
	for c := range cl.keys {
		a := cl.members(c)
		for _, i := range a[1:] {
			uf.union(int(a[0]), int(i))
		}
	}
	sw := cl.newSweep()
	for c := range cl.keys {
		a := cl.members(c)
		sw.each(c, func(nc int) bool {
			b := cl.members(nc)
			if uf.find(int(a[0])) == uf.find(int(b[0])) {
				return true
			}
			for _, i := range a {
				for _, j := range b {
					if cl.space.dist2(x, y, z, int(i), int(j)) <= r2 {
						uf.union(int(i), int(j))
						return true
					}
				}
			}
			return true
		})
	}
}
