package qos

import (
	"fmt"
	"math"
	"sort"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/store"
)

// verifier measures an imported array against its target and re-encodes
// the chunks that a correction changes.
type verifier struct {
	db        *store.DB
	name      string
	in        *source
	grid      *chunk.Grid
	t         Target
	vr        float64
	rawBytes  float64
	chunks    []*planChunk
	coords    [][]int
	bounds    []float64
	table     *boundTable
	res       *Result
	maxRounds int
	cm        *CodecModel

	outcomes []outcome
	stale    []bool
	// prev is each chunk's outcome at prevEb, the bound it had before its
	// last rewrite, for secant slopes. A prevEb of 0 means none.
	prev   []outcome
	prevEb []float64
}

// measure updates the outcomes of stale chunks and returns the metric of
// the whole array.
func (v *verifier) measure() (float64, error) {
	if v.outcomes == nil {
		v.outcomes = make([]outcome, len(v.chunks))
		v.stale = make([]bool, len(v.chunks))
		for i := range v.stale {
			v.stale[i] = true
		}
	}
	st, err := v.db.Stat(v.name)
	if err != nil {
		return 0, err
	}
	sizes := map[string]int64{}
	for _, c := range st.Chunks {
		sizes[coordsKey(c.Coords)] = c.StoredBytes
	}
	for i, c := range v.coords {
		if !v.stale[i] {
			continue
		}
		region := v.grid.ChunkRegion(c)
		orig, err := v.in.chunk(c, region)
		if err != nil {
			return 0, err
		}
		dec := make([]byte, len(orig.Raw))
		if err := v.db.Read(v.name, region, dec); err != nil {
			return 0, err
		}
		decVals, fillT := floatsOf(dec, v.in.dtype, v.in.fill)
		o := outcome{Bytes: int(sizes[coordsKey(c)])}
		for j, x := range orig.Vals {
			if x-x != 0 || (fillT != nil && x == *fillT) {
				continue
			}
			d := math.Abs(x - decVals[j])
			o.SqErr += d * d
			o.MaxErr = max(o.MaxErr, d)
			o.Count++
		}
		if v.t.Metric == SSIMMetric {
			o.SSIMSum, o.Windows, _ = ssimSum(orig.Vals, decVals, region.Shape(), v.vr, fillT)
		}
		v.outcomes[i] = o
		v.stale[i] = false
	}
	var sq, maxErr, ssim, bytes float64
	var count, windows int
	for _, o := range v.outcomes {
		sq += o.SqErr
		count += o.Count
		maxErr = max(maxErr, o.MaxErr)
		ssim += o.SSIMSum
		windows += o.Windows
		bytes += float64(o.Bytes)
	}
	switch v.t.Metric {
	case PSNRMetric:
		return PSNR(v.vr, math.Sqrt(sq/float64(max(count, 1)))), nil
	case NRMSEMetric:
		return math.Sqrt(sq/float64(max(count, 1))) / v.vr, nil
	case MaxErrMetric:
		return maxErr, nil
	case RatioMetric:
		return v.rawBytes / bytes, nil
	}
	shape := v.in.shape
	cs := v.grid.ChunkShape()
	if cs[len(cs)-1] == shape[len(shape)-1] && cs[len(cs)-2] == shape[len(shape)-2] {
		// Chunks hold whole slices, so their windows are the array's.
		return ssim / float64(max(windows, 1)), nil
	}
	return v.wholeSSIM()
}

// wholeSSIM computes SSIM2D slice by slice from the input and the store.
func (v *verifier) wholeSSIM() (float64, error) {
	shape := v.in.shape
	nd := len(shape)
	lead := chunk.Shape(shape[:nd-2]).Count()
	var sum float64
	var windows int
	var s ssimScratch
	for k := range lead {
		start := make([]int, nd)
		end := append([]int(nil), shape...)
		rem := k
		for d := nd - 3; d >= 0; d-- {
			start[d] = rem % shape[d]
			end[d] = start[d] + 1
			rem /= shape[d]
		}
		region := chunk.Region{Start: start, Stop: end}
		orig, err := v.in.read(region)
		if err != nil {
			return 0, err
		}
		dec := make([]byte, len(orig))
		if err := v.db.Read(v.name, region, dec); err != nil {
			return 0, err
		}
		ov, fillT := floatsOf(orig, v.in.dtype, v.in.fill)
		dv, _ := floatsOf(dec, v.in.dtype, nil)
		ws, wn := s.slice(ov, dv, shape[nd-2], shape[nd-1], v.vr, fillT)
		sum += ws
		windows += wn
	}
	return sum / float64(max(windows, 1)), nil
}

// rewrite re-encodes chunk i with bound eb.
func (v *verifier) rewrite(i int, eb float64) error {
	if v.prev == nil {
		v.prev = make([]outcome, len(v.chunks))
		v.prevEb = make([]float64, len(v.chunks))
	}
	if !v.stale[i] {
		v.prev[i], v.prevEb[i] = v.outcomes[i], v.bounds[i]
	}
	v.bounds[i] = eb
	v.table.set(v.coords[i], eb)
	region := v.grid.ChunkRegion(v.coords[i])
	raw, err := v.in.read(region)
	if err != nil {
		return err
	}
	if err := v.db.Write(v.name, region, raw); err != nil {
		return err
	}
	v.stale[i] = true
	v.res.Compressions++
	return nil
}

// run measures and corrects until the target is met.
func (v *verifier) run() error {
	relaxed := false
	for round := 0; ; round++ {
		got, err := v.measure()
		if err != nil {
			return err
		}
		v.res.Achieved, v.res.Measured, v.res.Rounds = got, true, round
		if v.t.met(got) {
			if relaxed || round >= v.maxRounds || !v.slack(got) {
				return nil
			}
			// The target is met with room to spare: spend it once, and
			// let the next rounds correct if that overshoots.
			relaxed = true
			changed, err := v.correct(got, true)
			if err != nil {
				return err
			}
			if !changed {
				return nil
			}
			continue
		}
		if round >= v.maxRounds {
			return v.fallback(got)
		}
		changed, err := v.correct(got, false)
		if err != nil {
			return err
		}
		if !changed {
			return v.fallback(got)
		}
	}
}

// measuredCost returns the chunk's measured additive cost and size.
func (v *verifier) measuredCost(i int) (cost, size float64) {
	return v.costOf(i, v.outcomes[i])
}

// costOf returns the additive cost and size of outcome o of chunk i.
func (v *verifier) costOf(i int, o outcome) (cost, size float64) {
	if v.t.Metric == SSIMMetric {
		if o.Windows == 0 {
			return 0, float64(o.Bytes)
		}
		return (1 - o.SSIMSum/float64(o.Windows)) * v.chunks[i].windows, float64(o.Bytes)
	}
	return o.SqErr, float64(o.Bytes)
}

// prevBound returns the bound chunk i had before its last rewrite, or 0.
func (v *verifier) prevBound(i int) float64 {
	if v.prevEb == nil {
		return 0
	}
	return v.prevEb[i]
}

// prevCost returns chunk i's cost and size at prevBound.
func (v *verifier) prevCost(i int) (cost, size float64) {
	return v.costOf(i, v.prev[i])
}

// slack reports whether a met target leaves so much room that relaxing the
// bounds may be worth a correction round. correct then skips a relaxation
// that keeps more than relaxSaving of the stored size, since each round
// re-encodes the chunks it changes.
func (v *verifier) slack(got float64) bool {
	t := v.t
	switch t.Metric {
	case PSNRMetric:
		return got > t.Value+2
	case NRMSEMetric:
		return got < 0.8*t.Value
	case SSIMMetric:
		return 1-got < 0.75*(1-t.Value)
	case RatioMetric:
		return got > 1.25*t.Value
	}
	return false
}

// correct re-plans with the predictions calibrated by the measurements and
// re-encodes the chunks whose bound changes. Without relax, bounds only
// move toward meeting the target; with relax they move either way.
func (v *verifier) correct(got float64, relax bool) (bool, error) {
	t := v.t
	limitSize := t.Metric == RatioMetric
	budget := t.budget(v.chunks, v.vr, v.rawBytes)
	var local float64
	curves := make([]*curve, len(v.chunks))
	lo := make([]int, len(v.chunks))
	hi := make([]int, len(v.chunks))
	for i, c := range v.chunks {
		p := newPredictor(v.cm, c.feat, v.vr)
		what := t.needs(2)
		at := p.predict(v.bounds[i], what)
		mc, ms := v.measuredCost(i)
		local += mc
		sizeScale := 1.0
		if at.Bytes > 0 && ms > 0 {
			sizeScale = ms / at.Bytes
		}
		half := 1.0
		if limitSize {
			// Sizes fall slowly with the bound: a ratio far from its
			// target needs more than a decade.
			half = 2
		}
		grid := gridAround(max(v.bounds[i], 1e-300), half, correctionPerDecade)
		cv := &curve{bounds: grid, cost: make([]float64, len(grid)), size: make([]float64, len(grid))}
		// The cost grows as a power of eb from the measured point, until
		// the chunk is measured at two bounds: then the secant through
		// both gives the powers of eb that the cost and the size follow.
		// Squared errors and small SSIM deficits grow at most as eb^2.
		// Tightening takes the model's local power, kept between 1 and
		// 2, and relaxing takes 2, so that both err on the side of the
		// target.
		costPow := 2.0
		if pc := t.chunkCost(c, at); pc > 0 && !relax {
			if pl := t.chunkCost(c, p.predict(v.bounds[i]/2, what)); pl > 0 {
				costPow = min(max(math.Log2(pc/pl), 1), 2)
			}
		}
		sizePow, secant := 0.0, false
		if pb := v.prevBound(i); pb > 0 && pb != v.bounds[i] {
			lr := math.Log(v.bounds[i] / pb)
			pc, ps := v.prevCost(i)
			if mc > 0 && pc > 0 {
				costPow = min(max(math.Log(mc/pc)/lr, 0.5), 3)
			}
			if ms > 0 && ps > 0 {
				sizePow, secant = min(math.Log(ms/ps)/lr, 0), true
			}
		}
		for j, eb := range grid {
			pr := p.predict(eb, what)
			cv.size[j] = pr.Bytes * sizeScale
			if secant {
				cv.size[j] = ms * math.Pow(eb/v.bounds[i], sizePow)
			}
			cv.cost[j] = mc * math.Pow(eb/v.bounds[i], costPow)
			if mc == 0 && eb > v.bounds[i] {
				// No error was measured: only what the model adds above
				// the current bound counts.
				cv.cost[j] = max(t.chunkCost(c, pr)-t.chunkCost(c, at), 0)
			}
		}
		center := len(grid) / 2
		cv.cost[center], cv.size[center] = mc, ms
		cv.monotone()
		// Where the predicted size is flat, prefer the larger bound: it
		// keeps the chunk nearest its measured point.
		for j := range cv.size {
			cv.size[j] *= 1 + 1e-6*float64(len(grid)-1-j)
		}
		curves[i] = cv
		// Move only toward the target, so a correction never undoes what
		// the measurement confirmed.
		switch {
		case relax:
			lo[i], hi[i] = 0, len(grid)-1
		case limitSize:
			lo[i], hi[i] = center, len(grid)-1
		default:
			lo[i], hi[i] = 0, center
		}
	}
	if t.Metric == SSIMMetric {
		// The per-chunk windows may miss windows across chunk borders:
		// scale the budget by how far the whole-array SSIM is from theirs.
		var weight float64
		for _, c := range v.chunks {
			weight += c.windows
		}
		if whole := (1 - got) * weight; whole > 0 && local > 0 {
			budget *= local / whole
		}
	}
	// Aim inside the target, further when relaxing, so that one
	// correction suffices.
	if relax {
		budget *= 0.9
	} else {
		budget *= 0.95
	}
	choice, ok := allocate(curves, budget, limitSize, lo, hi)
	if !ok && !relax && limitSize {
		// The calibrated size curves cannot reach the ratio within the
		// grid: the model misjudges this array, so step by the rate
		// rule instead.
		return v.rateStep(budget)
	}
	if !ok && !relax {
		// The calibrated curves cannot meet the target within a decade:
		// move every chunk a full decade toward it.
		for i := range choice {
			choice[i] = max(lo[i], len(curves[i].bounds)/2-correctionPerDecade)
		}
	}
	if relax {
		// Relaxing re-encodes every chunk it changes: skip it unless it
		// saves more than 1 - relaxSaving of the stored size.
		var now, then float64
		for i, cv := range curves {
			now += cv.size[len(cv.bounds)/2]
			then += cv.size[choice[i]]
		}
		if then > relaxSaving*now {
			return false, nil
		}
	}
	changed := false
	for i, cv := range curves {
		if eb := cv.bounds[choice[i]]; choice[i] != len(cv.bounds)/2 {
			if err := v.rewrite(i, eb); err != nil {
				return false, err
			}
			changed = true
		}
	}
	return changed, nil
}

// correctionPerDecade is the number of bounds per decade that a correction
// chooses from: neighbours differ by 2.4%, about 5% in squared error.
const correctionPerDecade = 96

// relaxSaving is the share of the stored size that relaxing must predict to
// keep for it to be worth a round of re-encoding.
const relaxSaving = 0.85

// ratioFallbackStep is the factor by which the ratio fallback first raises
// every bound: a quarter decade.
var ratioFallbackStep = math.Pow(10, 0.25)

// Limits of rateStep: the fewest bits per value it expects a chunk to
// shrink to, and the largest factor by which it raises a bound.
const (
	rateMinBits   = 1.0 / 16
	rateMaxFactor = 1e4
)

// rateStep raises every chunk's bound by one factor k chosen by the rate
// rule of quantizing coders: each doubling of the bound saves about one
// bit per value, down to rateMinBits. It aims the measured sizes at
// budget bytes and re-encodes every chunk whose bound changes.
func (v *verifier) rateStep(budget float64) (bool, error) {
	total := func(log2k float64) float64 {
		var sum float64
		for i, c := range v.chunks {
			_, size := v.measuredCost(i)
			n := float64(c.feat.Count)
			sum += max(size-n*log2k/8, n*rateMinBits/8)
		}
		return sum
	}
	lo, hi := 0.0, math.Log2(rateMaxFactor)
	if total(hi) > budget {
		lo = hi
	}
	for range 40 {
		if hi-lo < 1e-3 {
			break
		}
		mid := (lo + hi) / 2
		if total(mid) <= budget {
			hi = mid
		} else {
			lo = mid
		}
	}
	k := math.Pow(2, max(hi, math.Log2(ratioFallbackStep)))
	changed := false
	for i := range v.chunks {
		if eb := min(v.bounds[i]*k, v.vr); eb > v.bounds[i] {
			if err := v.rewrite(i, eb); err != nil {
				return false, err
			}
			changed = true
		}
	}
	return changed, nil
}

// fallback applies a correction that is sure to meet the target, or
// reports that none exists.
func (v *verifier) fallback(got float64) error {
	t := v.t
	var err error
	switch t.Metric {
	case PSNRMetric, NRMSEMetric:
		// |x - x'| <= eb for every value bounds the RMSE by eb.
		safe := math.Sqrt(t.mseBudget(v.vr))
		for i := range v.chunks {
			if v.bounds[i] > safe {
				if err := v.rewrite(i, safe); err != nil {
					return err
				}
			}
		}
	case SSIMMetric:
		// Store the chunks with the largest deficit losslessly until the
		// rest fit the budget, then all of them if that is not enough.
		order := make([]int, len(v.chunks))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool {
			ca, _ := v.measuredCost(order[a])
			cb, _ := v.measuredCost(order[b])
			return ca > cb
		})
		var total float64
		for i := range v.chunks {
			c, _ := v.measuredCost(i)
			total += c
		}
		budget := t.budget(v.chunks, v.vr, v.rawBytes)
		for _, i := range order {
			if total <= budget*0.9 {
				break
			}
			c, _ := v.measuredCost(i)
			total -= c
			if err := v.rewrite(i, 0); err != nil {
				return err
			}
		}
		if got, err = v.measure(); err != nil {
			return err
		}
		if !t.met(got) {
			for i := range v.chunks {
				if v.bounds[i] != 0 {
					if err := v.rewrite(i, 0); err != nil {
						return err
					}
				}
			}
		}
	case RatioMetric:
		// Raise every bound, up to the value range, until the ratio is
		// reached. The steps are a quarter, a half, one and two decades
		// and so on, so that a near miss loses little quality and a far
		// one takes few rounds.
		step := ratioFallbackStep
		for range 6 {
			for i := range v.chunks {
				if eb := min(v.bounds[i]*step, v.vr); eb > v.bounds[i] {
					if err := v.rewrite(i, eb); err != nil {
						return err
					}
				}
			}
			if got, err = v.measure(); err != nil {
				return err
			}
			if t.met(got) {
				break
			}
			step *= step
		}
	default:
		return fmt.Errorf("%w: target %s not met after %d corrections, achieved %s=%.4g", ErrTargetUnreachable, t, v.res.Rounds, t.Metric, got)
	}
	final, err := v.measure()
	if err != nil {
		return err
	}
	v.res.Achieved = final
	if !t.met(final) {
		return fmt.Errorf("%w: target %s not met after %d corrections and the fallback, achieved %s=%.4g", ErrTargetUnreachable, t, v.res.Rounds, t.Metric, final)
	}
	return nil
}
