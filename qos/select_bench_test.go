package qos

import (
	"math"
	"testing"
	"time"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// BenchmarkSelection times features and planning over every real field at
// the store's default chunk shape, as fast mode runs them, and reports
// their cost in percent of one compression of the same chunks, per codec.
func BenchmarkSelection(b *testing.B) {
	for _, name := range []string{"lorenzo", "block"} {
		b.Run(name, func(b *testing.B) { benchmarkSelection(b, name) })
	}
}

// benchmarkSelection plans with the model of codec name and compares the
// time to one compression with that codec.
func benchmarkSelection(b *testing.B, name string) {
	m := realdata.ForTest(b)
	fields, err := LoadFields(m.Dir)
	if err != nil {
		b.Fatal(err)
	}
	model, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	cm, err := model.codec(name)
	if err != nil {
		b.Fatal(err)
	}
	codec, err := codecs.ByName(name)
	if err != nil {
		b.Fatal(err)
	}
	type fieldChunks struct {
		chunks []*chunkData
		vr     float64
		fill   *float64
		f64    bool
		raw    float64
		p      codecs.Params
	}
	var all []fieldChunks
	var rawBytes int64
	for i := range fields {
		f := &fields[i]
		cs := chunk.DefaultChunkShape(f.Shape, f.DType.Size(), 1<<20)
		chunks, err := splitChunks(f, cs)
		if err != nil {
			b.Fatal(err)
		}
		vals, fillT := floatsOf(f.Raw, f.DType, f.Fill)
		lo, hi := valueRange(vals, fillT)
		if !(hi > lo) {
			continue
		}
		all = append(all, fieldChunks{chunks, hi - lo, fillT, f.DType == codecs.Float64, float64(len(f.Raw)), fieldParams(f.DType, f.Fill)})
		rawBytes += int64(len(f.Raw))
	}
	targets := []Target{{PSNRMetric, 60}, {SSIMMetric, 0.99}, {NRMSEMetric, 1e-3}, {RatioMetric, 10}}
	var compress time.Duration
	for _, fc := range all {
		eb := Target{PSNRMetric, 60}.ClosedFormBound(fc.vr)
		for _, c := range fc.chunks {
			p := fc.p
			p.Shape, p.Bound = c.Shape, eb
			// The fastest of three compressions, as the loop below
			// repeats the selection.
			best := time.Duration(math.MaxInt64)
			for range 3 {
				s := time.Now()
				if _, err := codecs.Encode(nil, codec, codecs.Bound{Mode: codecs.ModeAbs, Value: eb}, p, c.Raw); err != nil {
					b.Fatal(err)
				}
				best = min(best, time.Since(s))
			}
			compress += best
		}
	}
	b.SetBytes(rawBytes * int64(len(targets)))
	b.ResetTimer()
	for range b.N {
		for _, t := range targets {
			for _, fc := range all {
				pcs := make([]*planChunk, len(fc.chunks))
				for i, c := range fc.chunks {
					feat := computeFeatures(c.Vals, c.Shape, fc.fill, fc.f64)
					if t.Metric == SSIMMetric {
						feat.addWindows(c.Vals, c.Shape, fc.fill)
					}
					pcs[i] = &planChunk{feat: feat, shape: c.Shape, windows: chunkWindows(c.Shape, feat.Valid)}
				}
				plan(pcs, t, cm, fc.vr, fc.raw, t.fastQuantile())
			}
		}
	}
	perRun := b.Elapsed().Seconds() / float64(b.N) / float64(len(targets))
	b.ReportMetric(100*perRun/compress.Seconds(), "%compression")
}
