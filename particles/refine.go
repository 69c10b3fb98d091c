package particles

import (
	"math"

	"github.com/epsilon-db/epsilon/codecs"
)

// maxLevel is the finest refinement level. Level l (1 <= l <= maxLevel)
// moves each coordinate of a particle from its decoded value by a whole
// number of steps of Bound/4^(l-1), at most 4^(l-1) steps, which leaves a
// moved coordinate within half a step of the original; levelExact restores
// the original values.
const (
	maxLevel   = 4
	levelExact = maxLevel + 1
)

// correction lists the particles whose decoded positions the decoder
// replaces, in stored (curve) order.
type correction struct {
	index []int32 // increasing
	level []uint8 // 1..maxLevel or levelExact
	// steps holds, per particle and axis, the signed number of level steps
	// from the decoded value, or for an exact particle the number of
	// representable dtype values between the decoded and the original.
	steps [][3]int64
}

// levelStep returns the step of refinement level l for position bound b.
func levelStep(b float64, l int) float64 { return b / float64(int64(1)<<(2*l-2)) }

// levelLimit is the largest step count of level l: a decoded value is
// within the bound of the original, which is 4^(l-1) steps.
func levelLimit(l int) int64 { return int64(1) << (2*l - 2) }

// refined returns the value steps level-l steps from the decoded value dec,
// rounded to the dtype. The product is rounded on its own, so no machine
// fuses it into a multiply-add and every machine computes the same value.
func refined(dec float64, steps int64, l int, b float64, dtype codecs.DType) float64 {
	move := float64(float64(steps) * levelStep(b, l))
	v := dec + move
	if dtype == codecs.Float32 {
		v = float64(float32(v))
	}
	return v
}

// refine returns the steps that take decoded value dec nearest to orig at
// level l (levelExact: exactly to orig), and the value they give.
func refine(orig, dec float64, l int, b float64, dtype codecs.DType) (int64, float64) {
	if l == levelExact {
		return orderedBits(orig, dtype) - orderedBits(dec, dtype), orig
	}
	limit := levelLimit(l)
	k := int64(math.Round((orig - dec) / levelStep(b, l)))
	k = max(-limit, min(k, limit))
	return k, refined(dec, k, l, b, dtype)
}

// apply replaces the decoded positions pos (stored order) of the listed
// particles. decodeCorrection has checked every step count.
func (c *correction) apply(pos [3][]float64, b float64, dtype codecs.DType) {
	for k, i := range c.index {
		l := int(c.level[k])
		for d := range 3 {
			if l == levelExact {
				pos[d][i], _ = fromOrderedBits(orderedBits(pos[d][i], dtype), c.steps[k][d], dtype)
			} else {
				pos[d][i] = refined(pos[d][i], c.steps[k][d], l, b, dtype)
			}
		}
	}
}
