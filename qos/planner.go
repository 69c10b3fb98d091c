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

// planChunk is what the planner knows of one chunk.
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

// plan predicts per-chunk bounds that meet t. It returns the bounds, the
// predictions at them and whether the prediction meets the budget.
func plan(chunks []*planChunk, t Target, cm *CodecModel, valueRange, rawBytes float64) ([]float64, []Prediction, bool) {
	bounds := make([]float64, len(chunks))
	preds := make([]Prediction, len(chunks))
	if t.Metric == MaxErrMetric {
		for i := range bounds {
			bounds[i] = t.Value
		}
		return bounds, preds, true
	}
	predictors := make([]*predictor, len(chunks))
	for i, c := range chunks {
		predictors[i] = newPredictor(cm, c.feat, valueRange)
	}
	build := func(grids [][]float64) []*curve {
		curves := make([]*curve, len(chunks))
		for i, c := range chunks {
			cv := &curve{bounds: grids[i], cost: make([]float64, len(grids[i])), size: make([]float64, len(grids[i]))}
			for j, eb := range grids[i] {
				p := predictors[i].predict(eb)
				cv.cost[j] = t.chunkCost(c, p)
				cv.size[j] = p.Bytes
			}
			cv.monotone()
			curves[i] = cv
		}
		return curves
	}
	budget := t.budget(chunks, valueRange, rawBytes)
	limitSize := t.Metric == RatioMetric

	// Coarse: two points per decade over the bounds the training sweep
	// covers, range * 10^-7.5 to range * 10^-0.5.
	coarse := make([][]float64, len(chunks))
	for i := range coarse {
		coarse[i] = gridAround(valueRange*math.Pow(10, -4), 3.5, 2)
	}
	curves := build(coarse)
	choice, _ := allocate(curves, budget, limitSize, nil, nil)
	// Fine: twelve points per decade around each coarse choice.
	fine := make([][]float64, len(chunks))
	for i := range fine {
		fine[i] = gridAround(curves[i].bounds[choice[i]], 0.5, 12)
	}
	curves = build(fine)
	choice, ok := allocate(curves, budget, limitSize, nil, nil)
	for i, cv := range curves {
		bounds[i] = cv.bounds[choice[i]]
		preds[i] = predictors[i].predict(bounds[i])
	}
	return bounds, preds, ok
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
