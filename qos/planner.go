package qos

import (
	"math"
)

// chunkWindows returns the number of SSIM windows in a chunk of shape,
// scaled by the share of valid values.
func chunkWindows(shape []int, valid float64) float64 {
	if len(shape) < 2 {
		return 0
	}
	rows, cols := shape[len(shape)-2], shape[len(shape)-1]
	w := min(SSIMWindow, rows, cols)
	if w < 2 {
		return 0
	}
	slices := 1
	for _, d := range shape[:len(shape)-2] {
		slices *= d
	}
	return float64(slices*(rows-w+1)*(cols-w+1)) * valid
}

// planChunk is the planner's state for one chunk.
type planChunk struct {
	feat    *Features
	shape   []int
	windows float64
}

// weight returns the factor that turns a per-value or per-window
// prediction into the chunk's additive cost.
func (t Target) weight(c *planChunk) float64 {
	if t.Metric == SSIMMetric {
		return c.windows
	}
	return c.feat.Valid * float64(c.feat.Count)
}

// chunkCost returns the additive cost of a prediction: squared error for
// PSNR, NRMSE and ratio targets, the SSIM deficit times windows for SSIM.
func (t Target) chunkCost(c *planChunk, p Prediction) float64 {
	if t.Metric == SSIMMetric {
		return p.SSIMDeficit * c.windows
	}
	return p.MSE * t.weight(c)
}

// budget returns the limit on the total cost, or for a ratio target on
// the total stored bytes.
func (t Target) budget(chunks []*planChunk, valueRange float64, rawBytes float64) float64 {
	var total float64
	for _, c := range chunks {
		total += t.weight(c)
	}
	switch t.Metric {
	case SSIMMetric:
		return (1 - t.Value) * total
	case RatioMetric:
		return rawBytes / t.Value
	}
	return t.mseBudget(valueRange) * total
}

// Quantiles of the calibrated residuals that plans aim at. Fast mode
// measures nothing, so it plans for a high quantile of the model's chunk
// outcome: the 97th for the squared error and the size, whose held-out
// residuals on an unseen family spread wider than the calibration's, the
// 95th for the SSIM deficit. Verify mode plans nearer the median, since a
// miss costs one re-encoding of the chunks it changes.
const (
	fastMSEQuant   = 0.97
	fastSSIMQuant  = 0.95
	verifyQuantile = 0.7
)

// fastQuantile returns the calibration quantile fast mode plans t at.
func (t Target) fastQuantile() float64 {
	if t.Metric == SSIMMetric {
		return fastSSIMQuant
	}
	return fastMSEQuant
}

// needs returns the outputs a plan for t reads: the metric's own and, when
// chunks compete for one budget, the size.
func (t Target) needs(chunks int) need {
	var n need
	switch t.Metric {
	case PSNRMetric, NRMSEMetric:
		n = needMSE
	case SSIMMetric:
		n = needSSIM
	case RatioMetric:
		n = needMSE | needBytes
	case MaxErrMetric:
		n = needBytes
	}
	if chunks > 1 {
		n |= needBytes
	}
	return n
}

// minMSEMargin is the smallest margin, in ln(mse), that a plan keeps for a
// PSNR or NRMSE target: about 10% of squared error, 0.43 dB. The
// calibration's residuals concentrate near zero, while on a field family
// the model has not seen its errors at the 70th percentile run higher, so
// without it verify mode re-encodes most single-chunk arrays.
const minMSEMargin = 0.1

// margin returns the factor by which the plan shrinks its budget so that
// the target holds at residual quantile q of the calibration.
func (t Target) margin(cm *CodecModel, q float64) float64 {
	c := &cm.Calibration
	switch t.Metric {
	case PSNRMetric, NRMSEMetric:
		return math.Exp(-max(quantileOf(c.MSE, q), minMSEMargin))
	case SSIMMetric:
		return math.Exp(-max(quantileOf(c.SSIM, q), 0))
	case RatioMetric:
		return math.Exp(-max(quantileOf(c.Bytes, q), 0))
	}
	return 1
}

// plan predicts per-chunk bounds that meet t at residual quantile q. It
// returns the bounds, the model's predictions at them (without the margin)
// and whether the prediction meets the budget.
func plan(chunks []*planChunk, t Target, cm *CodecModel, valueRange, rawBytes, q float64) ([]float64, []Prediction, bool) {
	bounds := make([]float64, len(chunks))
	preds := make([]Prediction, len(chunks))
	what := t.needs(len(chunks))
	predictors := make([]*predictor, len(chunks))
	for i, c := range chunks {
		predictors[i] = newPredictor(cm, c.feat, valueRange)
	}
	if t.Metric == MaxErrMetric {
		for i := range bounds {
			bounds[i] = t.Value
			preds[i] = predictors[i].predict(t.Value, needBytes)
		}
		return bounds, preds, true
	}
	budget := t.budget(chunks, valueRange, rawBytes) * t.margin(cm, q)
	limitSize := t.Metric == RatioMetric
	// The bounds the training sweep covers: range * 10^-7.5 to
	// range * 10^-0.5.
	top := math.Log10(valueRange) - 0.5
	bottom := top - 7
	ok := true
	start := top - 3.5
	if eb := t.ClosedFormBound(valueRange); eb > 0 {
		start = math.Log10(eb)
	}
	// The search's first step assumes that the squared error and the SSIM
	// deficit grow as eb^2, and that the size shrinks by a factor e per
	// decade of bound.
	slope := 2 * math.Ln10
	if limitSize {
		slope = 1
	}
	if len(chunks) == 1 {
		// One chunk: search the bound directly.
		c, p := chunks[0], predictors[0]
		h := func(lg float64) float64 {
			pr := p.predict(math.Pow(10, lg), what)
			if limitSize {
				return math.Log(budget / max(pr.Bytes, 1e-300))
			}
			return math.Log(max(t.chunkCost(c, pr), 1e-300) / budget)
		}
		var lg float64
		lg, ok = searchBound(h, start, bottom, top, slope, !limitSize)
		bounds[0] = math.Pow(10, lg)
	} else {
		build := func(grids [][]float64) []*curve {
			curves := make([]*curve, len(chunks))
			for i, c := range chunks {
				cv := &curve{bounds: grids[i], cost: make([]float64, len(grids[i])), size: make([]float64, len(grids[i]))}
				for j, eb := range grids[i] {
					p := predictors[i].predict(eb, what)
					cv.cost[j] = t.chunkCost(c, p)
					cv.size[j] = p.Bytes
				}
				cv.monotone()
				curves[i] = cv
			}
			return curves
		}
		// One bound for every chunk first, then 24 points per decade
		// within a quarter decade of it for the allocation.
		var lg float64
		lg, ok = searchBound(func(lg float64) float64 {
			eb := math.Pow(10, lg)
			var cost, size float64
			for i, c := range chunks {
				p := predictors[i].predict(eb, what)
				cost += t.chunkCost(c, p)
				size += p.Bytes
			}
			if limitSize {
				return math.Log(budget / max(size, 1e-300))
			}
			return math.Log(max(cost, 1e-300) / budget)
		}, start, bottom, top, slope, !limitSize)
		fine := make([][]float64, len(chunks))
		for i := range fine {
			fine[i] = gridAround(math.Pow(10, lg), 0.25, 24)
		}
		curves := build(fine)
		var choice []int
		choice, ok = allocate(curves, budget, limitSize, nil, nil)
		for i, cv := range curves {
			bounds[i] = cv.bounds[choice[i]]
		}
	}
	for i := range chunks {
		preds[i] = predictors[i].predict(bounds[i], what|needBytes)
	}
	return bounds, preds, ok
}

// searchBound finds where the increasing function h of lg = log10(bound)
// crosses 0 in [lo, hi], starting at start, where slope estimates dh/dlg.
// It brackets the crossing between two adjacent points of the predictor's
// lattice, so that it evaluates the model at few lattice points. Secant
// steps from the start aim at the lattice point just past the estimated
// crossing, and false position steps narrow the bracket. Then it refines
// by false position between the two lattice points, where h interpolates. With below set it returns the largest lg it evaluated
// with h <= 0, else the smallest with h >= 0; ok is false when no point on
// that side exists in the range, and then the range end nearest to it is
// returned.
func searchBound(h func(float64) float64, start, lo, hi, slope float64, below bool) (float64, bool) {
	const step = 1.0 / latticePerDecade
	// Lattice points are exact multiples of step.
	snap := func(lg float64) float64 { return math.Round(lg*latticePerDecade) / latticePerDecade }
	floor := func(lg float64) float64 { return math.Floor(lg*latticePerDecade) / latticePerDecade }
	ceil := func(lg float64) float64 { return math.Ceil(lg*latticePerDecade) / latticePerDecade }

	// a holds h <= 0 and b holds h > 0 once found; h NaN counts as > 0.
	a, ha := math.Inf(-1), 0.0
	b, hb := math.Inf(1), 0.0
	set := func(x, hx float64) bool {
		if hx <= 0 {
			a, ha = x, hx
			return true
		}
		b, hb = x, hx
		return false
	}
	x := max(lo, min(hi, snap(start)))
	hx := h(x)
	movedA := set(x, hx)

	// Bracket. Every step moves at least one lattice step, and a secant
	// slope replaces the estimate only where it is positive and finite.
	// Steps on the same side grow at least twofold after the second, so
	// that a poor slope estimate costs few evaluations.
	var jump float64
	for n := 0; math.IsInf(a, -1) || math.IsInf(b, 1); n++ {
		down := !(hx <= 0)
		if down && x <= lo {
			return lo, !below
		}
		if !down && x >= hi {
			return hi, below
		}
		d := math.Abs(hx / slope)
		if !(d < 2) {
			d = 2
		}
		d = max(d, step)
		if n >= 2 {
			d = max(d, 2*jump)
		}
		var y float64
		if down {
			y = max(lo, floor(x-d))
		} else {
			y = min(hi, ceil(x+d))
		}
		hy := h(y)
		if s := (hy - hx) / (y - x); s > 0 && !math.IsInf(s, 0) {
			slope = s
		}
		jump = math.Abs(y - x)
		x, hx = y, hy
		movedA = set(x, hx)
	}

	// Narrow the bracket to adjacent lattice points by false position,
	// aimed past the estimated crossing on the side of the end that moved
	// last, so that one evaluation can close the bracket. The Illinois
	// weights halve the value of an end that stays while the other moves
	// twice. After four steps it bisects, so that it always ends.
	wa, wb := 1.0, 1.0
	for n := 0; ; n++ {
		kLo, kHi := floor(a)+step, ceil(b)-step
		if kLo > kHi {
			break
		}
		m := a - wa*ha*(b-a)/(wb*hb-wa*ha)
		if !(m > a && m < b) || n >= 4 {
			m = (a + b) / 2
		}
		if movedA {
			m = ceil(m)
		} else {
			m = floor(m)
		}
		m = max(kLo, min(kHi, m))
		wasA := movedA
		movedA = set(m, h(m))
		if movedA {
			wa = 1
			if wasA {
				wb /= 2
			}
		} else {
			wb = 1
			if !wasA {
				wa /= 2
			}
		}
	}
	// Illinois false position, to 1/100 of a decade.
	side := 0
	for range 12 {
		if b-a < 0.01 || (ha > -0.002 && below) || (hb < 0.002 && !below) {
			break
		}
		m := a - ha*(b-a)/(hb-ha)
		m = max(a+0.1*(b-a), min(b-0.1*(b-a), m))
		hm := h(m)
		if hm <= 0 {
			a, ha = m, hm
			if side == -1 {
				hb /= 2
			}
			side = -1
		} else {
			b, hb = m, hm
			if side == 1 {
				ha /= 2
			}
			side = 1
		}
	}
	if below {
		return a, true
	}
	return b, true
}

// metricFromCost turns a total cost back into the metric: the PSNR or
// NRMSE of a total squared error, or the SSIM of a total deficit.
func (t Target) metricFromCost(cost, weight, valueRange float64) float64 {
	switch t.Metric {
	case PSNRMetric:
		return PSNR(valueRange, math.Sqrt(cost/weight))
	case NRMSEMetric:
		return math.Sqrt(cost/weight) / valueRange
	case SSIMMetric:
		return 1 - cost/weight
	}
	return math.NaN()
}

// met reports whether an achieved metric value meets t.
func (t Target) met(v float64) bool {
	switch t.Metric {
	case PSNRMetric, SSIMMetric, RatioMetric:
		return v >= t.Value
	default:
		return v <= t.Value
	}
}
