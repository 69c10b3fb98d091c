package qos

import (
	"math"
)

// curve is the predicted or measured outcome of one chunk over a grid of
// bounds in ascending order: cost (the additive distortion the target
// limits, or for a ratio target the additive error to minimize) is
// non-decreasing and size non-increasing along it.
type curve struct {
	bounds []float64
	cost   []float64
	size   []float64
}

// monotone makes cost non-decreasing and size non-increasing in the bound,
// which a larger bound cannot contradict on average.
func (c *curve) monotone() {
	for j := 1; j < len(c.cost); j++ {
		c.cost[j] = max(c.cost[j], c.cost[j-1])
	}
	for j := len(c.size) - 2; j >= 0; j-- {
		c.size[j] = max(c.size[j], c.size[j+1])
	}
}

// allocate picks one grid index per chunk. With limitSize false it
// minimizes the total size subject to total cost <= budget; with
// limitSize true it minimizes the total cost subject to total size <=
// budget. lo and hi, when not nil, restrict each chunk's index. It returns
// the choice and whether the budget is met.
//
// It solves the Lagrangian relaxation by bisection on the multiplier and
// then spends the remaining slack greedily.
func allocate(curves []*curve, budget float64, limitSize bool, lo, hi []int) ([]int, bool) {
	primary := func(c *curve, j int) float64 {
		if limitSize {
			return c.cost[j]
		}
		return c.size[j]
	}
	constr := func(c *curve, j int) float64 {
		if limitSize {
			return c.size[j]
		}
		return c.cost[j]
	}
	rng := func(i int) (int, int) {
		a, b := 0, len(curves[i].bounds)-1
		if lo != nil {
			a = max(a, lo[i])
		}
		if hi != nil {
			b = min(b, hi[i])
		}
		return a, b
	}
	// Normalize so that the multiplier range does not depend on units.
	var pScale float64
	for i, c := range curves {
		a, _ := rng(i)
		pScale += math.Abs(primary(c, a))
	}
	pScale = max(pScale, 1e-300)
	cScale := max(math.Abs(budget), 1e-300)
	choose := func(lambda float64, out []int) float64 {
		var total float64
		for i, c := range curves {
			a, b := rng(i)
			best, bestV := a, math.Inf(1)
			for j := a; j <= b; j++ {
				v := primary(c, j)/pScale + lambda*constr(c, j)/cScale
				if v < bestV {
					best, bestV = j, v
				}
			}
			out[i] = best
			total += constr(c, best)
		}
		return total
	}
	choice := make([]int, len(curves))
	trial := make([]int, len(curves))
	loL, hiL := -12.0, 12.0
	if choose(math.Pow(10, hiL), choice) > budget {
		// Even the smallest constraint values miss: take them.
		for i := range curves {
			a, b := rng(i)
			best := a
			for j := a; j <= b; j++ {
				if constr(curves[i], j) < constr(curves[i], best) {
					best = j
				}
			}
			choice[i] = best
		}
		return choice, false
	}
	for range 60 {
		mid := (loL + hiL) / 2
		if choose(math.Pow(10, mid), trial) <= budget {
			hiL = mid
			copy(choice, trial)
		} else {
			loL = mid
		}
	}
	// Spend the slack: move single chunks one step where the primary
	// improves most per unit of constraint used.
	var used float64
	for i, c := range curves {
		used += constr(c, choice[i])
	}
	for {
		best, bestGain := -1, 0.0
		bestStep := 0
		for i, c := range curves {
			a, b := rng(i)
			for _, step := range []int{1, -1} {
				j := choice[i] + step
				if j < a || j > b {
					continue
				}
				dc := constr(c, j) - constr(c, choice[i])
				dp := primary(c, choice[i]) - primary(c, j)
				// !(dp > 0) also skips NaN costs, on which the walk
				// would step back and forth forever.
				if !(dp > 0) || used+dc > budget {
					continue
				}
				gain := dp / max(dc, 1e-300)
				if dc <= 0 {
					gain = math.Inf(1)
				}
				if gain > bestGain {
					best, bestGain, bestStep = i, gain, step
				}
			}
		}
		if best < 0 {
			break
		}
		j := choice[best] + bestStep
		used += constr(curves[best], j) - constr(curves[best], choice[best])
		choice[best] = j
	}
	return choice, true
}

// gridAround returns n+1 bounds spaced 10^(1/perDecade) apart, centred on
// center, ascending.
func gridAround(center float64, halfDecades float64, perDecade int) []float64 {
	n := int(2 * halfDecades * float64(perDecade))
	out := make([]float64, n+1)
	for j := range out {
		out[j] = center * math.Pow(10, -halfDecades+float64(j)/float64(perDecade))
	}
	return out
}
