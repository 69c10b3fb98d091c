package particles

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/epsilon-db/epsilon/codecs"
)

// maxPlanRounds is the number of rounds after which planCorrection stores
// the particles of every pair still flagged exactly.
const maxPlanRounds = 12

// axisMasks are the sets of axes a refinement may move, fewest first.
var axisMasks = []int{1, 2, 4, 7}

// state is a particle's refinement, saved to try another.
type state struct {
	level uint8
	steps [3]int64
	pos   [3]float64
}

// planStats describes a planned correction.
type planStats struct {
	// Pairs is the number of pairs flagged for the positions as decoded.
	Pairs int
	// Relabelled is the number of particles whose group differs from the
	// original for the positions as decoded.
	Relabelled int
	// Rounds is the number of flag-and-refine rounds the plan took.
	Rounds int
}

// planCorrection returns the correction that makes the decoded positions dec
// (stored order) group exactly as the original positions orig, whose FoF
// labels are origLabels, with every coordinate within bound of orig.
//
// Each round groups the corrected positions, and when the groups differ
// from the original ones, flags the pairs whose linked status must flip
// and refines particles of each flagged pair one level further towards the
// original. A refined axis is within half a level step of the original, so
// finer levels restore pairs ever closer to the linking length. Exact
// particles restore every pair, so the rounds end. The decoder applies the same refinements with the same
// rounding, so the result is known here.
func planCorrection(orig, dec [3][]float64, origLabels []int32, space Space, link, bound float64, dtype codecs.DType) (*correction, *planStats, error) {
	n := len(orig[0])
	level := make([]uint8, n)
	steps := make(map[int32][3]int64)
	cur := [3][]float64{slices.Clone(dec[0]), slices.Clone(dec[1]), slices.Clone(dec[2])}
	st := &planStats{}
	// raise moves particle i to the first level from to on that keeps
	// every coordinate within bound of the original, or to exact, and
	// reports whether it moved. Only the axes in mask (bit d for axis d)
	// move towards the original; the others keep their decoded values.
	raise := func(i int32, to int, mask int) bool {
		if int(level[i]) >= to {
			return false
		}
		for l := max(to, int(level[i])+1); l <= levelExact; l++ {
			var s [3]int64
			var v [3]float64
			ok := true
			for d := range 3 {
				if mask&(1<<d) != 0 || l == levelExact {
					s[d], v[d] = refine(orig[d][i], dec[d][i], l, bound, dtype)
				} else {
					v[d] = dec[d][i]
				}
				ok = ok && math.Abs(v[d]-orig[d][i]) <= bound
			}
			if ok || l == levelExact {
				level[i] = uint8(l)
				steps[i] = s
				for d := range 3 {
					cur[d][i] = v[d]
				}
				return true
			}
		}
		return false
	}
	for {
		st.Rounds++
		got, err := FoF(cur[0], cur[1], cur[2], space, link)
		if err != nil {
			return nil, nil, err
		}
		if st.Rounds == 1 {
			st.Relabelled = (&Groups{Labels: origLabels}).Relabelled(got)
		}
		if slices.Equal(got.Labels, origLabels) {
			break
		}
		pairs := flagPairs(orig, cur, origLabels, got.Labels, space, link)
		if st.Rounds == 1 {
			st.Pairs = len(pairs)
		}
		// A flagged pair takes its original status when one of its
		// particles goes one level up, or else both go up. Each particle
		// goes up at most once a round.
		moved := 0
		up := make(map[int32]bool)
		want := func(i, j int32) bool { return Linked(space.dist2(orig[0], orig[1], orig[2], int(i), int(j)), link) }
		met := func(i, j int32) bool {
			return Linked(space.dist2(cur[0], cur[1], cur[2], int(i), int(j)), link) == want(i, j)
		}
		next := func(i int32) int {
			if st.Rounds >= maxPlanRounds {
				return levelExact
			}
			return int(level[i]) + 1
		}
		for _, p := range pairs {
			i, j := p[0], p[1]
			if met(i, j) {
				continue
			}
			alone := false
			for _, a := range p {
				if up[a] {
					continue
				}
				saved := state{level[a], steps[a], [3]float64{cur[0][a], cur[1][a], cur[2][a]}}
				// Fewer moving axes first: a step count of 0 costs least.
				for _, mask := range axisMasks {
					if raise(a, next(a), mask) && met(i, j) {
						up[a], alone = true, true
						moved++
						break
					}
					level[a], steps[a] = saved.level, saved.steps
					for d := range 3 {
						cur[d][a] = saved.pos[d]
					}
				}
				if alone {
					break
				}
			}
			if alone {
				continue
			}
			for _, a := range p {
				if !up[a] && raise(a, next(a), 7) {
					up[a] = true
					moved++
				}
			}
		}
		if moved == 0 {
			// No flagged pair has a particle left to refine, which the
			// flagging rules out. Store the changed groups exactly.
			relabelled(origLabels, got.Labels, func(i int) {
				if raise(int32(i), levelExact, 7) {
					moved++
				}
			})
			if moved == 0 {
				return nil, nil, fmt.Errorf("internal error: the correction failed to restore the original groups with every changed particle exact")
			}
		}
	}
	corr := &correction{}
	for i := range n {
		if level[i] > 0 {
			corr.index = append(corr.index, int32(i))
			corr.level = append(corr.level, level[i])
			corr.steps = append(corr.steps, steps[int32(i)])
		}
	}
	return corr, st, nil
}

// relabelled calls mark for every particle whose group differs between the
// label arrays a and b.
func relabelled(a, b []int32, mark func(i int)) {
	sizeA := make([]int32, len(a))
	sizeB := make([]int32, len(a))
	for i := range a {
		sizeA[a[i]]++
		sizeB[b[i]]++
	}
	bad := make([]bool, len(a))
	for i := range a {
		if a[i] != b[i] || sizeA[a[i]] != sizeB[b[i]] {
			bad[a[i]] = true
			bad[b[i]] = true
		}
	}
	for i := range a {
		if bad[a[i]] || bad[b[i]] {
			mark(i)
		}
	}
}

// flagPairs returns the pairs whose linked status must flip in dec for the
// groups to equal the original ones: every pair linked in dec across two
// original groups (a cut), and for each original group that dec splits, the
// fewest pairs linked in orig but not in dec that join it again (a minimum
// spanning forest over the pieces by decoded distance). Pairs come back
// sorted.
//
// Only particles whose group differs between dec and orig can take part:
// a cut joins two original groups, so both particles are in a merged group,
// and a join repairs a split group.
func flagPairs(orig, dec [3][]float64, origLabels, decLabels []int32, space Space, link float64) [][2]int32 {
	var subset []int32
	relabelled(origLabels, decLabels, func(i int) { subset = append(subset, int32(i)) })
	if len(subset) == 0 {
		return nil
	}
	pick := func(p [3][]float64) [3][]float64 {
		var out [3][]float64
		for d := range 3 {
			out[d] = make([]float64, len(subset))
			for k, i := range subset {
				out[d][k] = p[d][i]
			}
		}
		return out
	}
	so, sd := pick(orig), pick(dec)
	link2 := float64(link * link)

	var flags [][2]int32
	pieces := newUnionFind(len(subset))
	cl := newCellList(space, sd[0], sd[1], sd[2], link, link)
	cl.forEachPair(sd[0], sd[1], sd[2], link2, func(a, b int, _ float64) {
		i, j := subset[a], subset[b]
		if origLabels[i] != origLabels[j] {
			flags = append(flags, [2]int32{i, j})
		} else {
			pieces.union(a, b)
		}
	})

	type candidate struct {
		a, b int
		d2   float64
	}
	var cands []candidate
	cl = newCellList(space, so[0], so[1], so[2], link, link)
	cl.forEachPair(so[0], so[1], so[2], link2, func(a, b int, _ float64) {
		if d2 := space.dist2(sd[0], sd[1], sd[2], a, b); d2 > link2 {
			cands = append(cands, candidate{a, b, d2})
		}
	})
	slices.SortFunc(cands, func(p, q candidate) int {
		return cmp.Or(cmp.Compare(p.d2, q.d2), cmp.Compare(p.a, q.a), cmp.Compare(p.b, q.b))
	})
	for _, c := range cands {
		if pieces.union(c.a, c.b) {
			flags = append(flags, [2]int32{subset[c.a], subset[c.b]})
		}
	}
	for k, f := range flags {
		if f[0] > f[1] {
			flags[k] = [2]int32{f[1], f[0]}
		}
	}
	slices.SortFunc(flags, comparePairs)
	return flags
}

func comparePairs(a, b [2]int32) int {
	if a[0] != b[0] {
		return int(a[0] - b[0])
	}
	return int(a[1] - b[1])
}
