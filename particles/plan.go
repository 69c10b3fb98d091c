package particles

import (
	"cmp"
	"math"
	"slices"
)

// planStats describes a planned correction.
type planStats struct {
	// Rounds is the number of encode-and-simulate rounds the plan took.
	Rounds int
	// Unmet counts the constraints the simulated decoder left unmet,
	// summed over the rounds; each unmet constraint made its particles
	// exact.
	Unmet int
}

// planCorrection returns the correction that makes the decoded positions dec
// (stored order) group exactly as the original positions orig, whose FoF
// labels are origLabels, with every coordinate within bound of orig.
//
// Each round computes the flagged pairs for the decoded positions with the
// exact particles set, then runs the decoder's correction on them, as the
// decoder will. Particles of pairs the correction leaves unmet, and of
// coordinates outside the bound, become exact, and the next round starts
// over. When the simulated correction yields the original groups, the plan
// is final: the decoder computes the same positions, so the result is known
// here.
func planCorrection(orig, dec [3][]float64, origLabels []int32, g geometry, bound float64) (*correction, *planStats, error) {
	n := len(orig[0])
	exact := make([]bool, n)
	st := &planStats{}
	for {
		st.Rounds++
		cur := [3][]float64{slices.Clone(dec[0]), slices.Clone(dec[1]), slices.Clone(dec[2])}
		corr := &correction{}
		for i := range n {
			if exact[i] {
				corr.exact = append(corr.exact, int32(i))
				for d := range 3 {
					cur[d][i] = orig[d][i]
					corr.exactPos[d] = append(corr.exactPos[d], orig[d][i])
				}
			}
		}
		pairs, err := flagPairs(orig, cur, origLabels, g)
		if err != nil {
			return nil, nil, err
		}
		corr.pairs = pairs
		unmet := applyCorrection(cur[0], cur[1], cur[2], corr, g)
		st.Unmet += len(unmet)
		added := 0
		mark := func(i int) {
			if !exact[i] {
				exact[i] = true
				added++
			}
		}
		for _, c := range unmet {
			mark(int(c.i))
			mark(int(c.j))
		}
		for i := range n {
			for d := range 3 {
				if !(math.Abs(cur[d][i]-orig[d][i]) <= bound) {
					mark(i)
				}
			}
		}
		if added == 0 {
			got, err := FoF(cur[0], cur[1], cur[2], g.space, g.link)
			if err != nil {
				return nil, nil, err
			}
			if slices.Equal(got.Labels, origLabels) {
				return corr, st, nil
			}
			// The constraints were met but the groups differ, which the
			// constraint set rules out up to rounding. Store the particles
			// of the changed groups exactly.
			relabelled(origLabels, got.Labels, mark)
			if added == 0 {
				for i := range n {
					mark(i)
				}
			}
		}
	}
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
func flagPairs(orig, dec [3][]float64, origLabels []int32, g geometry) ([][2]int32, error) {
	got, err := FoF(dec[0], dec[1], dec[2], g.space, g.link)
	if err != nil {
		return nil, err
	}
	var subset []int32
	relabelled(origLabels, got.Labels, func(i int) { subset = append(subset, int32(i)) })
	if len(subset) == 0 {
		return nil, nil
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
	link2 := float64(g.link * g.link)

	var flags [][2]int32
	pieces := newUnionFind(len(subset))
	cl := newCellList(g.space, sd[0], sd[1], sd[2], g.link, g.link)
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
	cl = newCellList(g.space, so[0], so[1], so[2], g.link, g.link)
	cl.forEachPair(so[0], so[1], so[2], link2, func(a, b int, _ float64) {
		if d2 := g.space.dist2(sd[0], sd[1], sd[2], a, b); d2 > link2 {
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
	return flags, nil
}
