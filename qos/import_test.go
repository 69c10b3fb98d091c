package qos

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/store"
)

func openStore(t *testing.T) *store.DB {
	db, err := store.Open(t.TempDir(), &store.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func realFields(t *testing.T) []Field {
	m := realdata.ForTest(t)
	fields, err := LoadFields(m.Dir)
	require.NoError(t, err)
	return fields
}

// checkAchieved reads array name back and checks t with Compare and SSIM2D
// against the original values.
func checkAchieved(t *testing.T, db *store.DB, name string, f *Field, tg Target, res *Result) {
	t.Helper()
	raw := make([]byte, len(f.Raw))
	require.NoError(t, db.Read(name, chunk.Full(f.Shape), raw))
	orig, fillT := floatsOf(f.Raw, f.DType, f.Fill)
	dec, _ := floatsOf(raw, f.DType, nil)
	lo, hi := valueRange(orig, fillT)
	st := Compare(orig, dec, math.Inf(1), fillT)
	require.Zero(t, st.SpecialMismatches)
	switch tg.Metric {
	case PSNRMetric:
		require.GreaterOrEqual(t, PSNR(hi-lo, st.RMSE), tg.Value)
	case NRMSEMetric:
		require.LessOrEqual(t, st.RMSE/(hi-lo), tg.Value)
	case MaxErrMetric:
		require.LessOrEqual(t, st.MaxAbsError, tg.Value)
	case SSIMMetric:
		s, err := SSIM2D(orig, dec, f.Shape, hi-lo, fillT)
		require.NoError(t, err)
		require.GreaterOrEqual(t, s, tg.Value)
	case RatioMetric:
		stat, err := db.Stat(name)
		require.NoError(t, err)
		require.GreaterOrEqual(t, stat.Ratio, tg.Value)
		require.InDelta(t, stat.Ratio, res.Ratio, 1e-9)
	}
	// Every value is within the bound its chunk's stream records.
	stat, err := db.Stat(name)
	require.NoError(t, err)
	grid := res.Info.Grid()
	size := f.DType.Size()
	for _, c := range stat.Chunks {
		region := grid.ChunkRegion(c.Coords)
		var o, d []float64
		_ = chunk.Runs(f.Shape, region.Start, region.Shape(), func(off, n int) error {
			o = append(o, orig[off:off+n]...)
			d = append(d, dec[off:off+n]...)
			return nil
		})
		_ = size
		require.NoError(t, Compare(o, d, c.AbsBound, fillT).Err(), "chunk %v", c.Coords)
	}
}

func TestImportMeetsTargetsOnRealFields(t *testing.T) {
	fields := realFields(t)
	targets := []string{"psnr=60", "ssim=0.99", "nrmse=1e-3", "maxerr=rel1e-3", "ratio=10"}
	if testing.Short() {
		targets = targets[:2]
	}
	db := openStore(t)
	for _, f := range fields {
		if f.Fill != nil {
			continue
		}
		for _, ts := range targets {
			f := f
			t.Run(fmt.Sprintf("%s/%s", f.Name, ts), func(t *testing.T) {
				var tg Target
				if ts == "maxerr=rel1e-3" {
					vals, _ := floatsOf(f.Raw, f.DType, nil)
					lo, hi := valueRange(vals, nil)
					tg = Target{MaxErrMetric, 1e-3 * (hi - lo)}
				} else {
					var err error
					tg, err = ParseTarget(ts)
					require.NoError(t, err)
				}
				name := fmt.Sprintf("%s_%d_%v", f.Name, tg.Metric, math.Round(math.Log10(tg.Value)))
				res, err := Import(db, name, bytes.NewReader(f.Raw), int64(len(f.Raw)),
					store.ArrayOptions{DType: f.DType, Shape: f.Shape}, Options{Target: tg})
				require.NoError(t, err)
				require.True(t, res.Measured)
				require.True(t, tg.met(res.Achieved), "achieved %v", res.Achieved)
				checkAchieved(t, db, name, &f, tg, res)
				require.NoError(t, db.Delete(name))
			})
		}
	}
}

func TestImportFastModeTrustsPrediction(t *testing.T) {
	fields := realFields(t)
	var ts *Field
	for i := range fields {
		if fields[i].Name == "cesm_lens_TS_daily_f32_10x192x288" {
			ts = &fields[i]
		}
	}
	require.NotNil(t, ts)
	db := openStore(t)
	tg := Target{PSNRMetric, 60}
	res, err := Import(db, "ts", bytes.NewReader(ts.Raw), int64(len(ts.Raw)), store.ArrayOptions{DType: ts.DType, Shape: ts.Shape}, Options{Target: tg, Mode: Fast})
	require.NoError(t, err)
	require.False(t, res.Measured)
	require.Equal(t, res.Chunks, res.Compressions)
	// The prediction is close to what the store holds.
	raw := make([]byte, len(ts.Raw))
	require.NoError(t, db.Read("ts", chunk.Full(ts.Shape), raw))
	orig, _ := floatsOf(ts.Raw, ts.DType, nil)
	dec, _ := floatsOf(raw, ts.DType, nil)
	st := Compare(orig, dec, math.Inf(1), nil)
	require.InDelta(t, res.Predicted, st.PSNR, 1.5)
}

func TestImportRejectsBadInput(t *testing.T) {
	db := openStore(t)
	vals := make([]float32, 16*16)
	for i := range vals {
		vals[i] = float32(i % 17)
	}
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		b := math.Float32bits(v)
		raw[4*i], raw[4*i+1], raw[4*i+2], raw[4*i+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
	}
	opts := store.ArrayOptions{DType: codecs.Float32, Shape: []int{16, 16}}
	imp := func(o store.ArrayOptions, tg Target, r []byte) error {
		_, err := Import(db, "a", bytes.NewReader(r), int64(len(r)), o, Options{Target: tg})
		return err
	}
	withBound := opts
	withBound.Bound = codecs.Bound{Mode: codecs.ModeAbs, Value: 0.1}
	require.ErrorContains(t, imp(withBound, Target{PSNRMetric, 60}, raw), "exclude each other")
	require.ErrorContains(t, imp(opts, Target{PSNRMetric, 400}, raw), "below the f32 precision")
	require.ErrorIs(t, imp(opts, Target{PSNRMetric, 400}, raw), ErrTargetUnreachable)
	require.ErrorContains(t, imp(opts, Target{RatioMetric, 0.5}, raw), "below 1")
	require.ErrorContains(t, imp(opts, Target{Metric(9), 1}, raw), "invalid target metric")
	require.ErrorContains(t, imp(opts, Target{PSNRMetric, 60}, raw[:100]), "the input has 100 bytes")
	oneD := opts
	oneD.Shape = []int{256}
	require.ErrorContains(t, imp(oneD, Target{SSIMMetric, 0.9}, raw), "at least 2 dimensions")
	ints := store.ArrayOptions{DType: codecs.Int32, Shape: []int{16, 16}}
	require.ErrorContains(t, imp(ints, Target{PSNRMetric, 60}, raw), "need a float dtype")
	constant := make([]byte, len(raw))
	require.ErrorContains(t, imp(opts, Target{PSNRMetric, 60}, constant), "value range is 0")

	list, err := db.List()
	require.NoError(t, err)
	require.Empty(t, list, "a rejected import wrote an array")
}

func TestStoreCarriesModel(t *testing.T) {
	db := openStore(t)
	def, err := DefaultModel()
	require.NoError(t, err)
	got, err := ModelFor(db)
	require.NoError(t, err)
	require.Equal(t, def.doc, got.doc)

	// A retrained model (here a tiny one) stored in the store wins.
	fields := realFields(t)
	var small []Field
	for _, f := range fields {
		if f.Family == "cosmology" {
			small = append(small, f)
		}
	}
	m, err := Train(small[:2], TrainOptions{BlockBytes: []int{32 << 10}, Experts: 2})
	require.NoError(t, err)
	require.NoError(t, SaveModel(db, m))
	got, err = ModelFor(db)
	require.NoError(t, err)
	require.Equal(t, m.TrainedOn(), got.TrainedOn())
	require.Len(t, got.TrainedOn(), 2)

	// The tiny model still meets a target in verify mode.
	f := small[2]
	res, err := Import(db, "nyx", bytes.NewReader(f.Raw), int64(len(f.Raw)), store.ArrayOptions{DType: f.DType, Shape: f.Shape}, Options{Target: Target{PSNRMetric, 50}})
	require.NoError(t, err)
	checkAchieved(t, db, "nyx", &f, Target{PSNRMetric, 50}, res)
}

func TestTrainSingleExpert(t *testing.T) {
	fields := realFields(t)
	var small []Field
	for _, f := range fields {
		if f.Family == "cosmology" {
			small = append(small, f)
		}
	}
	m, err := Train(small[:2], TrainOptions{Codecs: []string{"lorenzo"}, BlockBytes: []int{32 << 10}, Experts: 1})
	require.NoError(t, err)
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	m2, err := ReadModel(b)
	require.NoError(t, err)
	require.Len(t, m2.doc.Codecs["lorenzo"].Experts, 1)

	db := openStore(t)
	f := small[2]
	target := Target{PSNRMetric, 50}
	res, err := Import(db, "nyx", bytes.NewReader(f.Raw), int64(len(f.Raw)), store.ArrayOptions{DType: f.DType, Shape: f.Shape, Codec: "lorenzo"}, Options{Target: target, Model: m2})
	require.NoError(t, err)
	checkAchieved(t, db, "nyx", &f, target, res)
}

func TestStoreModelCorruptRejected(t *testing.T) {
	db := openStore(t)
	bad := append([]byte(nil), defaultModelFile...)
	bad[4] = 9 // format version 9
	_, err := db.Import(modelArray, bytes.NewReader(bad), int64(len(bad)), store.ArrayOptions{DType: codecs.Uint8, Shape: []int{len(bad)}}, nil)
	require.NoError(t, err)
	_, err = ModelFor(db)
	require.ErrorContains(t, err, "format version 9")
	require.ErrorIs(t, err, ErrModelFormat)
}

// f32Bytes returns vals as little-endian float32 bytes.
func f32Bytes(vals []float32) []byte {
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		b := math.Float32bits(v)
		raw[4*i], raw[4*i+1], raw[4*i+2], raw[4*i+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
	}
	return raw
}

func TestImportSingleValue(t *testing.T) {
	raw := f32Bytes([]float32{3})
	for _, tg := range []Target{{PSNRMetric, 60}, {MaxErrMetric, 0.01}, {NRMSEMetric, 0.001}, {RatioMetric, 10}} {
		t.Run(tg.String(), func(t *testing.T) {
			db := openStore(t)
			opts := store.ArrayOptions{DType: codecs.Float32, Shape: []int{1}}
			_, err := Import(db, "a", bytes.NewReader(raw), int64(len(raw)), opts, Options{Target: tg})
			if err != nil {
				require.ErrorIs(t, err, ErrTargetUnreachable)
				return
			}
			out := make([]float32, 1)
			require.NoError(t, db.Read("a", chunk.Full([]int{1}), out))
			info, err := db.Stat("a")
			require.NoError(t, err)
			require.LessOrEqual(t, math.Abs(float64(out[0])-3), info.Chunks[0].AbsBound)
		})
	}
}

func TestImportRatioTargetAllNaN(t *testing.T) {
	vals := make([]float32, 16)
	for i := range vals {
		vals[i] = float32(math.NaN())
	}
	raw := f32Bytes(vals)
	db := openStore(t)
	opts := store.ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}}
	done := make(chan error, 1)
	go func() {
		_, err := Import(db, "a", bytes.NewReader(raw), int64(len(raw)), opts, Options{Target: Target{RatioMetric, 10}})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			require.ErrorIs(t, err, ErrTargetUnreachable)
			return
		}
		out := make([]float32, 16)
		require.NoError(t, db.Read("a", chunk.Full([]int{4, 4}), out))
		for i, v := range out {
			require.True(t, math.IsNaN(float64(v)), "value %d is %v, stored NaN", i, v)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Import of an all-NaN array with a ratio target did not return in 20 s")
	}
}

func TestImportAllNaNMessage(t *testing.T) {
	vals := make([]float32, 16)
	for i := range vals {
		vals[i] = float32(math.NaN())
	}
	raw := f32Bytes(vals)
	db := openStore(t)
	opts := store.ArrayOptions{DType: codecs.Float32, Shape: []int{4, 4}}
	_, err := Import(db, "a", bytes.NewReader(raw), int64(len(raw)), opts, Options{Target: Target{PSNRMetric, 60}})
	require.ErrorIs(t, err, ErrTargetUnreachable)
	require.ErrorContains(t, err, "no finite values")
	require.NotContains(t, err.Error(), "Inf")
}

func TestVerifyRatioRecoversFromBadModel(t *testing.T) {
	// A model that predicts streams 150 times smaller than they are plans
	// bounds far too small for a ratio target. Verify mode must still
	// reach the ratio, by the rate rule rather than a decade per round,
	// without overshooting it by much.
	m, err := DefaultModel()
	require.NoError(t, err)
	cm := m.doc.Codecs["lorenzo"]
	cm.SizeBase[0] -= 5
	fields := realFields(t)
	var f *Field
	for i := range fields {
		if strings.HasPrefix(fields[i].Name, "cesm_lens_TS") {
			f = &fields[i]
		}
	}
	require.NotNil(t, f)
	db := openStore(t)
	target := Target{RatioMetric, 10}
	res, err := Import(db, "ts", bytes.NewReader(f.Raw), int64(len(f.Raw)), store.ArrayOptions{DType: f.DType, Shape: f.Shape, Codec: "lorenzo"}, Options{Target: target, Model: m})
	require.NoError(t, err)
	checkAchieved(t, db, "ts", f, target, res)
	require.Less(t, res.Ratio, 2*target.Value, "the correction overshot the ratio")
	require.LessOrEqual(t, res.Compressions, 4*res.Chunks)
}
