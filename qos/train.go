package qos

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// TrainOptions configures Train. Zero values select the defaults.
type TrainOptions struct {
	// Codecs lists the codecs to model. Default: every registered codec
	// except lossless, so a newly registered codec needs only a retrain.
	Codecs []string
	// BlockBytes lists the chunk sizes the training sweep cuts each field
	// into. Default 1 MiB (the store's default chunk) and 64 KiB.
	BlockBytes []int
	// Experts is the number of experts per codec. Default 3.
	Experts int
	// Progress, when set, is called after each field with the counts done
	// and total.
	Progress func(done, total int)
}

func (o *TrainOptions) ensureDefaults() {
	if len(o.Codecs) == 0 {
		for _, n := range codecs.Names() {
			if n != "lossless" {
				o.Codecs = append(o.Codecs, n)
			}
		}
	}
	if len(o.BlockBytes) == 0 {
		o.BlockBytes = []int{1 << 20, 64 << 10}
	}
	if o.Experts == 0 {
		o.Experts = 3
	}
}

// sweepBounds are the bounds the training sweep compresses each block
// with, as exponents e of eb = range * 10^-e.
var sweepBounds = []float64{0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7}

// minMSERatio is the smallest mse/eb^2 the model represents: a chunk that
// decodes exactly, or nearly so, trains as this ratio, whose logarithm is
// finite.
const minMSERatio = 1e-6

// sample is one real compression of one block.
type sample struct {
	field string
	block int
	x     []float64 // inputs at the bound
	ref   []float64 // inputs at the reference bound, for the gate
	// Targets: ln(mse/eb^2), ln(bytes per value), ln(1 - SSIM) (NaN when
	// undefined).
	lnMSE, lnBytes, lnDeficit float64
}

// collectSamples sweeps bounds over blocks of every field for one codec.
func collectSamples(fields []Field, codecName string, blockBytes []int, progress func(done, total int)) ([]sample, error) {
	codec, err := codecs.ByName(codecName)
	if err != nil {
		return nil, err
	}
	type job struct {
		f     *Field
		c     *chunkData
		vr    float64
		block int
	}
	var jobs []job
	block := 0
	for i := range fields {
		f := &fields[i]
		for _, bb := range blockBytes {
			cs := chunk.DefaultChunkShape(f.Shape, f.DType.Size(), bb)
			chunks, err := splitChunks(f, cs)
			if err != nil {
				return nil, err
			}
			vals, fillT := floatsOf(f.Raw, f.DType, f.Fill)
			lo, hi := valueRange(vals, fillT)
			for _, c := range chunks {
				if c.Feat.Empty() || !(hi > lo) {
					continue
				}
				jobs = append(jobs, job{f, c, hi - lo, block})
				block++
			}
		}
	}
	out := make([][]sample, len(jobs))
	var mu sync.Mutex
	var firstErr error
	done := 0
	fieldsDone := map[string]int{}
	perField := map[string]int{}
	for _, j := range jobs {
		perField[j.f.Name]++
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				j := jobs[i]
				p := fieldParams(j.f.DType, j.f.Fill)
				ref := withoutSSIM(j.c.Feat.Inputs(nil, j.vr, j.vr))
				// Jitter the bounds per block so the training set covers a continuum.
				jitter := 0.5 * float64((i*7919)%97) / 97
				for _, e := range sweepBounds {
					eb := j.vr * math.Pow(10, -(e+jitter))
					o, err := measureChunk(codec, j.c, p, eb, j.vr, true)
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("field %s: %w", j.f.Name, err)
						}
						mu.Unlock()
						return
					}
					s := sample{field: j.f.Name, block: j.block, ref: ref, x: j.c.Feat.Inputs(nil, eb, j.vr)}
					s.lnMSE = math.Log(max(o.mse()/(eb*eb), minMSERatio))
					s.lnBytes = math.Log(float64(o.Bytes) / float64(len(j.c.Vals)))
					s.lnDeficit = math.NaN()
					if d := o.ssimDeficit(); d == d {
						s.lnDeficit = math.Log(max(d, 1e-12))
					}
					out[i] = append(out[i], s)
				}
				mu.Lock()
				fieldsDone[j.f.Name]++
				if fieldsDone[j.f.Name] == perField[j.f.Name] {
					done++
					if progress != nil {
						progress(done, len(perField))
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	var all []sample
	for _, s := range out {
		all = append(all, s...)
	}
	return all, nil
}

// Train sweeps bounds over the fields with every codec and fits a model.
func Train(fields []Field, o TrainOptions) (*Model, error) {
	o.ensureDefaults()
	if len(fields) == 0 {
		return nil, fmt.Errorf("train: no fields")
	}
	m := &Model{doc: modelDoc{Inputs: numInputs, InputNames: inputNames[:], Codecs: map[string]*CodecModel{}}}
	for _, f := range fields {
		m.doc.TrainedOn = append(m.doc.TrainedOn, f.Name)
	}
	for _, name := range o.Codecs {
		samples, err := collectSamples(fields, name, o.BlockBytes, o.Progress)
		if err != nil {
			return nil, fmt.Errorf("train codec %s: %w", name, err)
		}
		if len(samples) == 0 {
			return nil, fmt.Errorf("train codec %s: the fields have no valid values", name)
		}
		cm, err := fitCodecModel(samples, o.Experts, defaultBoost)
		if err != nil {
			return nil, fmt.Errorf("train codec %s: %w", name, err)
		}
		if cm.Calibration, err = calibrate(samples, o.Experts, defaultBoost); err != nil {
			return nil, fmt.Errorf("train codec %s: calibration: %w", name, err)
		}
		m.doc.Codecs[name] = cm
	}
	return m, nil
}

// fitCodecModel fits the gate by k-means on the reference inputs of the
// blocks, then one expert per centroid on all samples, weighted by the gate.
func fitCodecModel(samples []sample, experts int, bp boostParams) (*CodecModel, error) {
	cm := &CodecModel{Mean: make([]float64, numInputs), Scale: make([]float64, numInputs), Tau: 1}
	// One reference vector per block.
	var refs [][]float64
	seen := map[int]bool{}
	for _, s := range samples {
		if !seen[s.block] {
			seen[s.block] = true
			refs = append(refs, s.ref)
		}
	}
	for i := range numInputs {
		var sum, sq float64
		for _, r := range refs {
			sum += r[i]
			sq += r[i] * r[i]
		}
		n := float64(len(refs))
		cm.Mean[i] = sum / n
		cm.Scale[i] = max(math.Sqrt(max(sq/n-cm.Mean[i]*cm.Mean[i], 0)), 1e-3)
	}
	z := make([][]float64, len(refs))
	for j, r := range refs {
		z[j] = make([]float64, numInputs)
		for i := range r {
			z[j][i] = (r[i] - cm.Mean[i]) / cm.Scale[i]
		}
	}
	experts = max(1, min(experts, len(refs)))
	if experts > 1 {
		cm.Centroids, cm.Tau = kmeans(z, experts)
	}

	weights := make([][]float64, experts)
	for k := range weights {
		weights[k] = make([]float64, len(samples))
	}
	var g []float64
	for i, s := range samples {
		g = cm.gate(s.ref, g)
		for k := range experts {
			weights[k][i] = g[k]
		}
	}
	base, err := fitSizeBase(samples)
	if err != nil {
		return nil, err
	}
	cm.SizeBase = base
	x := make([][]float64, len(samples))
	yM := make([]float64, len(samples))
	yB := make([]float64, len(samples))
	for i, s := range samples {
		x[i], yM[i], yB[i] = withoutSSIM(s.x), s.lnMSE, s.lnBytes-cm.sizeBase(s.x)
	}
	var xS [][]float64
	var yS []float64
	var idxS []int
	for i, s := range samples {
		if s.lnDeficit == s.lnDeficit {
			xS = append(xS, s.x)
			yS = append(yS, s.lnDeficit)
			idxS = append(idxS, i)
		}
	}
	cm.Experts = make([]Expert, experts)
	var wg sync.WaitGroup
	for k := range experts {
		wS := make([]float64, len(idxS))
		for j, i := range idxS {
			wS[j] = weights[k][i]
		}
		wg.Add(3)
		go func() { defer wg.Done(); cm.Experts[k].MSE = fitBoosted(x, yM, weights[k], bp) }()
		go func() { defer wg.Done(); cm.Experts[k].Bytes = fitBoosted(x, yB, weights[k], bp) }()
		go func() {
			defer wg.Done()
			if len(yS) == 0 {
				cm.Experts[k].SSIM = &Boosted{Base: math.Log(1e-12)}
				return
			}
			cm.Experts[k].SSIM = fitBoosted(xS, yS, wS, bp)
		}()
	}
	wg.Wait()
	return cm, nil
}

// kmeans clusters the standardized points z into k centroids, seeded by
// farthest-point selection, and returns them with the gate temperature:
// the root mean square distance of the points to their centroid.
func kmeans(z [][]float64, k int) ([][]float64, float64) {
	dist := func(a, b []float64) float64 {
		var d float64
		for i := range a {
			d += (a[i] - b[i]) * (a[i] - b[i])
		}
		return d
	}
	cents := [][]float64{slices.Clone(z[0])}
	for len(cents) < k {
		best, bestD := 0, -1.0
		for j, p := range z {
			d := math.Inf(1)
			for _, c := range cents {
				d = min(d, dist(p, c))
			}
			if d > bestD {
				best, bestD = j, d
			}
		}
		cents = append(cents, slices.Clone(z[best]))
	}
	assign := make([]int, len(z))
	for range 50 {
		for j, p := range z {
			best, bestD := 0, math.Inf(1)
			for c := range cents {
				if d := dist(p, cents[c]); d < bestD {
					best, bestD = c, d
				}
			}
			assign[j] = best
		}
		for c := range cents {
			var n int
			sum := make([]float64, len(z[0]))
			for j, p := range z {
				if assign[j] == c {
					n++
					for i := range p {
						sum[i] += p[i]
					}
				}
			}
			if n > 0 {
				for i := range sum {
					sum[i] /= float64(n)
				}
				cents[c] = sum
			}
		}
	}
	var sq []float64
	for j, p := range z {
		sq = append(sq, dist(p, cents[assign[j]]))
	}
	sort.Float64s(sq)
	var total float64
	for _, v := range sq {
		total += v
	}
	tau := math.Sqrt(total / float64(len(sq)))
	return cents, max(tau, 0.5)
}

// Calibration uses the samples whose bound over the value range lies
// between 10^calibrateBelow and 10^calibrateAbove, where PSNR targets of
// about 30 to 110 dB put it; the model is least accurate at the largest
// bounds of the sweep, where few values keep a nonzero code.
const (
	calibrateAbove = -1.5
	calibrateBelow = -5.5
)

// calibrate fits the model once per family of the samples without that
// family's samples, predicts the held-out samples, and returns the
// quantiles of ln(measured / predicted) per output. With one family it
// holds out one field at a time; with one field it returns zero margins.
func calibrate(samples []sample, experts int, bp boostParams) (Calibration, error) {
	groupOf := func(s *sample) string { return FamilyOf(s.field) }
	groups := map[string]bool{}
	for i := range samples {
		groups[groupOf(&samples[i])] = true
	}
	if len(groups) < 2 {
		groupOf = func(s *sample) string { return s.field }
		clear(groups)
		for i := range samples {
			groups[groupOf(&samples[i])] = true
		}
	}
	var rM, rB, rS []float64
	if len(groups) >= 2 {
		names := make([]string, 0, len(groups))
		for g := range groups {
			names = append(names, g)
		}
		sort.Strings(names)
		for _, g := range names {
			var fit, held []sample
			for _, s := range samples {
				if groupOf(&s) == g {
					held = append(held, s)
				} else {
					fit = append(fit, s)
				}
			}
			cm, err := fitCodecModel(fit, experts, bp)
			if err != nil {
				return Calibration{}, err
			}
			var w []float64
			for _, s := range held {
				if s.x[0] > calibrateAbove || s.x[0] < calibrateBelow {
					continue
				}
				w = cm.gate(s.ref, w)
				xm := withoutSSIM(s.x)
				m, b, d := 0.0, cm.sizeBase(s.x), 0.0
				for k, wk := range w {
					e := &cm.Experts[k]
					m += wk * e.MSE.predict(xm)
					b += wk * e.Bytes.predict(xm)
					d += wk * e.SSIM.predict(s.x)
				}
				rM = append(rM, s.lnMSE-m)
				rB = append(rB, s.lnBytes-b)
				if s.lnDeficit == s.lnDeficit {
					rS = append(rS, s.lnDeficit-d)
				}
			}
		}
	}
	return Calibration{MSE: quantiles(rM), Bytes: quantiles(rB), SSIM: quantiles(rS)}, nil
}

// quantiles returns the calibrationSteps quantiles of r, all zero when r
// is empty.
func quantiles(r []float64) []float64 {
	out := make([]float64, calibrationSteps)
	if len(r) == 0 {
		return out
	}
	slices.Sort(r)
	for i := range out {
		out[i] = r[i*(len(r)-1)/(calibrationSteps-1)]
	}
	return out
}
