package qos

import (
	"math"
	"slices"
)

// Tree is one regression tree of a boosted ensemble, stored as flat arrays.
// Node i is a leaf when Feature[i] < 0 and returns Value[i]; otherwise it
// goes to Left[i] when x[Feature[i]] <= Threshold[i] and to Right[i] else.
type Tree struct {
	Feature   []int16   `json:"f"`
	Threshold []float64 `json:"t"`
	Left      []int32   `json:"l"`
	Right     []int32   `json:"r"`
	Value     []float64 `json:"v"`
}

func (t *Tree) predict(x []float64) float64 {
	i := 0
	for t.Feature[i] >= 0 {
		if x[t.Feature[i]] <= t.Threshold[i] {
			i = int(t.Left[i])
		} else {
			i = int(t.Right[i])
		}
	}
	return t.Value[i]
}

// Boosted is a gradient-boosted ensemble of regression trees for squared
// loss: Base plus the sum of the trees' outputs.
type Boosted struct {
	Base  float64 `json:"base"`
	Trees []Tree  `json:"trees"`

	// packed holds the trees' nodes in one array, and roots the index of
	// each tree's root in it; pack builds them.
	packed []packedNode
	roots  []int32
}

// packedNode is a node of a packed ensemble: a leaf when feature < 0, with
// its value in threshold; otherwise its left child is the next node and
// its right child is node right.
type packedNode struct {
	threshold float64
	feature   int32
	right     int32
}

// pack lays the trees out for predict: 16 bytes a node, every tree's nodes
// adjacent, a left child right after its parent, as growNode appends them.
// A tree that does not have that layout leaves the ensemble unpacked.
func (b *Boosted) pack() {
	var nodes []packedNode
	var roots []int32
	for ti := range b.Trees {
		t := &b.Trees[ti]
		base := int32(len(nodes))
		roots = append(roots, base)
		for i := range t.Feature {
			if t.Feature[i] < 0 {
				nodes = append(nodes, packedNode{threshold: t.Value[i], feature: -1})
				continue
			}
			if int(t.Left[i]) != i+1 {
				return
			}
			nodes = append(nodes, packedNode{threshold: t.Threshold[i], feature: int32(t.Feature[i]), right: base + t.Right[i]})
		}
	}
	b.packed, b.roots = nodes, roots
}

func (b *Boosted) predict(x []float64) float64 {
	y := b.Base
	if b.roots == nil {
		for i := range b.Trees {
			y += b.Trees[i].predict(x)
		}
		return y
	}
	// A copy of the inputs in an array of a power of two length, indexed
	// by the masked feature, needs no bounds check. validTree keeps the
	// features below numInputs, so the mask changes none.
	var xa [inputSlots]float64
	copy(xa[:], x)
	nodes := b.packed
	// Four trees descend together, so that their node loads, which each
	// depend on the previous level, overlap. The leaves add up in tree
	// order, as one tree at a time would add them.
	roots := b.roots
	t := 0
	for ; t+4 <= len(roots); t += 4 {
		i0, i1, i2, i3 := roots[t], roots[t+1], roots[t+2], roots[t+3]
		for {
			n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
			if n0.feature < 0 && n1.feature < 0 && n2.feature < 0 && n3.feature < 0 {
				y += n0.threshold
				y += n1.threshold
				y += n2.threshold
				y += n3.threshold
				break
			}
			i0 = descend(n0, i0, &xa)
			i1 = descend(n1, i1, &xa)
			i2 = descend(n2, i2, &xa)
			i3 = descend(n3, i3, &xa)
		}
	}
	for _, i := range roots[t:] {
		n := &nodes[i]
		for n.feature >= 0 {
			i = descend(n, i, &xa)
			n = &nodes[i]
		}
		y += n.threshold
	}
	return y
}

// inputSlots is the length of the input array predict reads. It is a
// power of two, so that a mask bounds the index, and not below numInputs,
// which the array type below checks when the package compiles.
const inputSlots = 32

var _ [inputSlots - numInputs]struct{}

// descend returns the index of the child of node n at index i that inputs
// x lead to, or i for a leaf. It selects the child by arithmetic, which
// compiles to conditional moves: a branch on the comparison, which goes
// either way at random, mispredicts often.
func descend(n *packedNode, i int32, x *[inputSlots]float64) int32 {
	if n.feature < 0 {
		return i
	}
	left := int32(0)
	if x[n.feature&(inputSlots-1)] <= n.threshold {
		left = 1
	}
	return n.right + left*(i+1-n.right)
}

// boostParams sets the size of an ensemble.
type boostParams struct {
	Trees, Depth, MinLeaf int
	Rate                  float64
}

var defaultBoost = boostParams{Trees: 120, Depth: 5, MinLeaf: 8, Rate: 0.1}

const maxBins = 64

// fitBoosted fits an ensemble to rows x (all of length numInputs) and
// targets y with sample weights w (nil means 1). Splits are searched over
// up to maxBins quantile thresholds per input.
func fitBoosted(x [][]float64, y, w []float64, p boostParams) *Boosted {
	n := len(y)
	if w == nil {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	var sw, swy float64
	for i := range y {
		sw += w[i]
		swy += w[i] * y[i]
	}
	m := &Boosted{}
	if n == 0 || sw == 0 {
		return m
	}
	m.Base = swy / sw
	nf := len(x[0])

	// Bin every input once.
	edges := make([][]float64, nf)
	bins := make([][]uint8, nf)
	col := make([]float64, n)
	for f := range nf {
		for i := range n {
			col[i] = x[i][f]
		}
		sorted := slices.Clone(col)
		slices.Sort(sorted)
		var e []float64
		for k := 1; k < maxBins; k++ {
			v := sorted[k*(n-1)/maxBins]
			if len(e) == 0 || v > e[len(e)-1] {
				e = append(e, v)
			}
		}
		edges[f] = e
		bins[f] = make([]uint8, n)
		for i := range n {
			b, _ := slices.BinarySearch(e, col[i])
			bins[f][i] = uint8(b)
		}
	}

	pred := make([]float64, n)
	for i := range pred {
		pred[i] = m.Base
	}
	grad := make([]float64, n)
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	for range p.Trees {
		for i := range n {
			grad[i] = y[i] - pred[i]
		}
		t := &Tree{}
		growNode(t, all, bins, edges, grad, w, p, 0)
		for i := range t.Value {
			t.Value[i] *= p.Rate
		}
		for i := range n {
			pred[i] += t.predict(x[i])
		}
		m.Trees = append(m.Trees, *t)
	}
	m.pack()
	return m
}

// growNode appends a node for rows idx to t and returns its index.
func growNode(t *Tree, idx []int32, bins [][]uint8, edges [][]float64, grad, w []float64, p boostParams, depth int) int32 {
	var sw, sg float64
	for _, i := range idx {
		sw += w[i]
		sg += w[i] * grad[i]
	}
	node := int32(len(t.Feature))
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.Left = append(t.Left, 0)
	t.Right = append(t.Right, 0)
	leaf := 0.0
	if sw > 0 {
		leaf = sg / sw
	}
	t.Value = append(t.Value, leaf)
	if depth >= p.Depth || len(idx) < 2*p.MinLeaf {
		return node
	}

	bestGain, bestF, bestBin := 1e-12, -1, 0
	base := sg * sg / sw
	var hw, hg [maxBins]float64
	var hc [maxBins]int
	for f := range bins {
		clear(hw[:])
		clear(hg[:])
		clear(hc[:])
		for _, i := range idx {
			b := bins[f][i]
			hw[b] += w[i]
			hg[b] += w[i] * grad[i]
			hc[b]++
		}
		var lw, lg float64
		var lc int
		for b := 0; b < len(edges[f]); b++ {
			lw += hw[b]
			lg += hg[b]
			lc += hc[b]
			rw, rg, rc := sw-lw, sg-lg, len(idx)-lc
			if lc < p.MinLeaf || rc < p.MinLeaf || lw <= 0 || rw <= 0 {
				continue
			}
			if gain := lg*lg/lw + rg*rg/rw - base; gain > bestGain {
				bestGain, bestF, bestBin = gain, f, b
			}
		}
	}
	if bestF < 0 {
		return node
	}
	var left, right []int32
	for _, i := range idx {
		if int(bins[bestF][i]) <= bestBin {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	t.Feature[node] = int16(bestF)
	t.Threshold[node] = edges[bestF][bestBin]
	l := growNode(t, left, bins, edges, grad, w, p, depth+1)
	r := growNode(t, right, bins, edges, grad, w, p, depth+1)
	t.Left[node], t.Right[node] = l, r
	return node
}

// validTree checks the structure of a decoded tree so that predict cannot
// index out of range or loop.
func validTree(t *Tree, inputs int) bool {
	n := len(t.Feature)
	if n == 0 || len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || len(t.Value) != n {
		return false
	}
	for i := range n {
		if math.IsNaN(t.Value[i]) || math.IsInf(t.Value[i], 0) {
			return false
		}
		if t.Feature[i] < 0 {
			continue
		}
		// Children come after their parent, so a walk always ends.
		if int(t.Feature[i]) >= inputs || int(t.Left[i]) <= i || int(t.Right[i]) <= i || int(t.Left[i]) >= n || int(t.Right[i]) >= n {
			return false
		}
	}
	return true
}
