package qos

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// Options configures Import.
type Options struct {
	Target Target
	Mode   Mode
	// Model predicts chunk outcomes. Nil selects the model the store
	// carries (SaveModel), or else the embedded default.
	Model *Model
	// ChunkBytes sizes the default chunk shape when ArrayOptions.Chunks is
	// nil. Default 1 MiB, the store's default.
	ChunkBytes int
	// MaxRounds is the number of correction rounds in Verify mode before
	// the safe fallback. Default 3.
	MaxRounds int
}

// Result reports what Import did.
type Result struct {
	Info   *store.ArrayInfo `json:"info"`
	Target string           `json:"target"`
	Mode   string           `json:"mode"`
	// Predicted is the metric the model predicted for the first plan.
	Predicted float64 `json:"predicted"`
	// Achieved is the measured metric; Measured is false in Fast mode,
	// where Achieved repeats the prediction.
	Achieved float64 `json:"achieved"`
	Measured bool    `json:"measured"`
	// Ratio is raw bytes / stored bytes.
	Ratio float64 `json:"ratio"`
	// Chunks is the number of chunks; Compressions counts chunk encodings,
	// corrections included.
	Chunks       int `json:"chunks"`
	Compressions int `json:"compressions"`
	Rounds       int `json:"rounds"`
	// MinBound and MaxBound span the absolute bounds chosen.
	MinBound float64 `json:"min_bound"`
	MaxBound float64 `json:"max_bound"`
}

// ErrTargetUnreachable marks a target that no bound can meet.
var ErrTargetUnreachable = errors.New("quality target out of reach")

// boundTable is the store.BoundPolicy of an import: a bound per chunk.
type boundTable struct {
	mu     sync.Mutex
	bounds map[string]float64
}

func coordsKey(c []int) string { return fmt.Sprint(c) }

func (b *boundTable) set(c []int, eb float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bounds[coordsKey(c)] = eb
}

// ChunkBound implements store.BoundPolicy.
func (b *boundTable) ChunkBound(info *store.ArrayInfo, coords []int, _ []byte) (float64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	eb, ok := b.bounds[coordsKey(coords)]
	if !ok {
		return 0, fmt.Errorf("qos: array %q chunk %v has no planned bound", info.Name, coords)
	}
	return eb, nil
}

// Import creates array name from src, as store.DB.Import does, with
// per-chunk bounds that meet o.Target on the whole array. opts.Bound must
// be left zero because the target sets the bounds. The catalog records
// mode abs with the largest chunk bound; every stream header records the
// bound of its chunk.
//
// Import reads src twice in Fast mode (features, then import) and once
// more in Verify mode, one chunk at a time. If it fails, including when
// Verify mode cannot meet a ratio target, it deletes what it created.
func Import(db *store.DB, name string, src io.ReaderAt, size int64, opts store.ArrayOptions, o Options) (*Result, error) {
	t := o.Target
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if opts.Bound != (codecs.Bound{}) {
		return nil, fmt.Errorf("import array %q: target %s and bound %s exclude each other: the target chooses the bounds", name, t, opts.Bound)
	}
	if !opts.DType.IsFloat() {
		return nil, fmt.Errorf("import array %q: quality targets need a float dtype, got %s", name, opts.DType)
	}
	shape := chunk.Shape(opts.Shape)
	if err := shape.Validate(); err != nil {
		return nil, fmt.Errorf("import array %q: %w", name, err)
	}
	if want := int64(shape.Count()) * int64(opts.DType.Size()); want != size {
		return nil, fmt.Errorf("import array %q: the input has %d bytes, shape %s of %s needs %d", name, size, shape, opts.DType, want)
	}
	if t.Metric == SSIMMetric && len(shape) < 2 {
		return nil, fmt.Errorf("import array %q: target %s needs at least 2 dimensions, the shape is %s", name, t, shape)
	}
	if opts.Codec == "" {
		opts.Codec = "lorenzo"
	}
	if opts.Chunks == nil {
		cb := o.ChunkBytes
		if cb == 0 {
			cb = 1 << 20
		}
		opts.Chunks = chunk.DefaultChunkShape(shape, opts.DType.Size(), cb)
	}
	grid, err := chunk.NewGrid(shape, opts.Chunks)
	if err != nil {
		return nil, fmt.Errorf("import array %q: %w", name, err)
	}
	var cm *CodecModel
	if t.Metric != MaxErrMetric {
		model := o.Model
		if model == nil {
			if model, err = ModelFor(db); err != nil {
				return nil, err
			}
		}
		if cm, err = model.codec(opts.Codec); err != nil {
			return nil, fmt.Errorf("import array %q: %w", name, err)
		}
	}
	if o.MaxRounds == 0 {
		o.MaxRounds = 3
	}

	// Pass 1: features of every chunk and the value range of the array.
	in := &source{src: src, shape: shape, dtype: opts.DType, fill: opts.Fill}
	var chunks []*planChunk
	var coords [][]int
	lo, hi := math.Inf(1), math.Inf(-1)
	maxAbs := 0.0
	_, fillT := floatsOf(nil, opts.DType, opts.Fill)
	err = grid.ForEach(chunk.Full(shape), func(c []int) error {
		region := grid.ChunkRegion(c)
		cd, err := in.chunk(c, region)
		if err != nil {
			return err
		}
		f := computeFeatures(cd.Vals, cd.Shape, fillT, opts.DType == codecs.Float64)
		if t.Metric == SSIMMetric {
			f.addWindows(cd.Vals, cd.Shape, fillT)
		}
		// Features sample the chunk; the value range must be exact.
		if clo, chi := valueRange(cd.Vals, fillT); clo <= chi {
			lo, hi = min(lo, clo), max(hi, chi)
			maxAbs = max(maxAbs, math.Abs(clo), math.Abs(chi))
		}
		chunks = append(chunks, &planChunk{feat: f, shape: region.Shape(), windows: chunkWindows(region.Shape(), f.Valid)})
		coords = append(coords, append([]int(nil), c...))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import array %q: %w", name, err)
	}
	vr := hi - lo
	if err := checkReachable(t, vr, maxAbs, opts.DType); err != nil {
		return nil, fmt.Errorf("import array %q: %w", name, err)
	}

	q := verifyQuantile
	if o.Mode == Fast {
		q = t.fastQuantile()
	}
	var bounds []float64
	var preds []Prediction
	if t.Metric == MaxErrMetric {
		// The target is the bound: no model is needed.
		bounds, preds = make([]float64, len(chunks)), make([]Prediction, len(chunks))
		for i := range bounds {
			bounds[i] = t.Value
		}
	} else {
		bounds, preds, _ = plan(chunks, t, cm, vr, float64(size), q)
	}
	res := &Result{Target: t.String(), Mode: o.Mode.String(), Chunks: len(chunks)}
	res.Predicted = predictedMetric(t, chunks, preds, vr, float64(size))
	table := &boundTable{bounds: map[string]float64{}}
	for i, c := range coords {
		table.set(c, bounds[i])
	}
	maxB := 0.0
	for _, b := range bounds {
		maxB = max(maxB, b)
	}
	opts.Bound = codecs.Bound{Mode: codecs.ModeAbs, Value: maxB}
	if maxB == 0 {
		opts.Bound = codecs.Bound{}
	}
	if err := db.SetPolicy(name, table); err != nil {
		return nil, err
	}
	defer db.SetPolicy(name, nil)
	info, err := db.Import(name, src, size, opts, nil)
	if err != nil {
		return nil, err
	}
	res.Info = info
	res.Compressions = len(chunks)

	fail := func(err error) (*Result, error) {
		if derr := db.Delete(name); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove the array: %w", derr))
		}
		return nil, fmt.Errorf("import array %q: %w", name, err)
	}
	if o.Mode == Fast {
		res.Achieved = res.Predicted
	} else {
		v := &verifier{db: db, name: name, in: in, grid: grid, t: t, vr: vr, rawBytes: float64(size),
			chunks: chunks, coords: coords, bounds: bounds, table: table, res: res, maxRounds: o.MaxRounds, cm: cm}
		if err := v.run(); err != nil {
			return fail(err)
		}
	}
	st, err := db.Stat(name)
	if err != nil {
		return fail(err)
	}
	res.Ratio = st.Ratio
	res.MinBound, res.MaxBound = math.Inf(1), 0
	for _, c := range coords {
		eb, _ := table.ChunkBound(info, c, nil)
		res.MinBound, res.MaxBound = min(res.MinBound, eb), max(res.MaxBound, eb)
	}
	return res, nil
}

// checkReachable rejects targets that lossy storage cannot meet on an array
// of value range vr whose largest magnitude is maxAbs.
func checkReachable(t Target, vr, maxAbs float64, dt codecs.DType) error {
	if math.IsInf(vr, -1) {
		return fmt.Errorf("%w: target %s is undefined for an array with no finite values other than the fill value; store it losslessly (mode none)", ErrTargetUnreachable, t)
	}
	if t.Metric == RatioMetric || t.Metric == MaxErrMetric {
		return nil
	}
	if !(vr > 0) || math.IsInf(vr, 0) {
		return fmt.Errorf("%w: target %s is undefined for an array whose value range is %v; store it losslessly (mode none)", ErrTargetUnreachable, t, vr)
	}
	if t.Metric == SSIMMetric {
		return nil
	}
	// Below half a unit in the last place of the largest value, rounding
	// to the dtype alone exceeds the error the target allows.
	eps := math.Pow(2, -52)
	if dt == codecs.Float32 {
		eps = math.Pow(2, -23)
	}
	precision := maxAbs * eps / 2
	if rmse := math.Sqrt(t.mseBudget(vr)); rmse < precision {
		return fmt.Errorf("%w: target %s needs an RMSE of %.3g, below the %s precision of this array's values (%.3g, about %.1f dB PSNR); store it losslessly (mode none)",
			ErrTargetUnreachable, t, rmse, dt, precision, PSNR(vr, precision))
	}
	return nil
}

// predictedMetric returns the metric the predictions add up to.
func predictedMetric(t Target, chunks []*planChunk, preds []Prediction, vr, rawBytes float64) float64 {
	if t.Metric == MaxErrMetric {
		return t.Value
	}
	if t.Metric == RatioMetric {
		var total float64
		for _, p := range preds {
			total += p.Bytes
		}
		return rawBytes / total
	}
	var cost, weight float64
	for i, c := range chunks {
		cost += t.chunkCost(c, preds[i])
		weight += t.weight(c)
	}
	return t.metricFromCost(cost, weight, vr)
}

// source reads chunks of a raw C-order input.
type source struct {
	src   io.ReaderAt
	shape chunk.Shape
	dtype codecs.DType
	fill  *float64
}

func (s *source) read(region chunk.Region) ([]byte, error) {
	size := s.dtype.Size()
	raw := make([]byte, region.Count()*size)
	pos := 0
	err := chunk.Runs(s.shape, region.Start, region.Shape(), func(off, n int) error {
		at := int64(off) * int64(size)
		if _, err := s.src.ReadAt(raw[pos:pos+n*size], at); err != nil {
			return fmt.Errorf("read input at byte %d: %w", at, err)
		}
		pos += n * size
		return nil
	})
	return raw, err
}

// chunk reads the chunk at coords c, which spans region. Its Feat is nil.
func (s *source) chunk(c []int, region chunk.Region) (*chunkData, error) {
	raw, err := s.read(region)
	if err != nil {
		return nil, err
	}
	vals, _ := floatsOf(raw, s.dtype, s.fill)
	return &chunkData{Coords: append([]int(nil), c...), Shape: region.Shape(), Raw: raw, Vals: vals}, nil
}

// modelArray is the reserved array that carries a store's own model.
const modelArray = "_qos/model"

// SaveModel stores m in db as the reserved array "_qos/model": a lossless
// uint8 array of the model file bytes. Import then prefers it to the
// embedded default. It replaces a model stored before.
func SaveModel(db *store.DB, m *Model) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if _, err := db.Info(modelArray); err == nil {
		if err := db.Delete(modelArray); err != nil {
			return err
		}
	}
	_, err = db.Import(modelArray, strings.NewReader(string(b)), int64(len(b)), store.ArrayOptions{
		DType: codecs.Uint8, Shape: []int{len(b)}, Attrs: []byte(`{"content":"epsilon qos model"}`),
	}, nil)
	return err
}

// ModelFor returns the model db carries, or the embedded default when it
// carries none.
func ModelFor(db *store.DB) (*Model, error) {
	info, err := db.Info(modelArray)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultModel()
	}
	if err != nil {
		return nil, err
	}
	b := make([]byte, info.Shape[0])
	if err := db.Read(modelArray, chunk.Full(info.Shape), b); err != nil {
		return nil, fmt.Errorf("read the store's qos model: %w", err)
	}
	m, err := ReadModel(b)
	if err != nil {
		return nil, fmt.Errorf("the store's qos model (array %q): %w", modelArray, err)
	}
	return m, nil
}
