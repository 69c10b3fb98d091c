// Package demo runs epsilon's main job on the real data set: it imports every
// gridded field and particle position set into a store at one relative
// error bound, reads everything back (whole, and a random region), and
// checks every value against its bound in float64. It also stores each
// particle set as a particle dataset with its FoF linking length and checks
// that the groups come back identical.
package demo

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
)

// Config selects what the demo runs on.
type Config struct {
	// DataDir is the data folder with manifest.json.
	DataDir string
	// DB is the store folder. It must not exist yet, so the demo never
	// changes a store it did not create.
	DB string
	// Bound is the error bound every dataset is stored at.
	Bound codecs.Bound
	// Codec overrides the default codec when not empty.
	Codec string
	// Seed selects the random regions.
	Seed uint64
}

// Row is the result for one dataset.
type Row struct {
	Name           string  `json:"name"`
	Kind           string  `json:"kind"`
	Shape          []int   `json:"shape"`
	DType          string  `json:"dtype"`
	MB             float64 `json:"mb"`
	Codec          string  `json:"codec"`
	Ratio          float64 `json:"ratio"`
	WriteMBps      float64 `json:"write_mb_per_s"`
	ReadMBps       float64 `json:"read_mb_per_s"`
	MaxError       float64 `json:"max_error"`
	Allowed        float64 `json:"allowed_error"`
	PSNR           float64 `json:"psnr"`
	Region         string  `json:"region"`
	RegionMaxError float64 `json:"region_max_error"`
	OK             bool    `json:"ok"`
	Problem        string  `json:"problem,omitempty"`
}

// Datasets returns the files the demo imports: every float field and every
// particle position set of the manifest.
func Datasets(m *realdata.Manifest) []realdata.File {
	var out []realdata.File
	for _, f := range m.Files {
		isFloat := f.DType == "float32" || f.DType == "float64"
		switch {
		case f.Kind() == "fields" && isFloat:
			out = append(out, f)
		case f.Kind() == "particles" && isFloat && strings.Contains(f.Name(), "_pos_"):
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Run imports and checks every dataset, calling progress before each. It
// returns one row per dataset; a dataset that fails is reported in its row
// (OK false, Problem set) and the others still run.
func Run(cfg Config, progress func(name string)) ([]Row, error) {
	m, err := realdata.Load(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.DB); err == nil {
		return nil, fmt.Errorf("store folder %s already exists: the demo writes a new store, pass a folder that does not exist", cfg.DB)
	}
	db, err := store.Open(cfg.DB, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x65707369))
	var rows []Row
	for _, f := range Datasets(m) {
		if progress != nil {
			progress(f.Name())
		}
		row, err := runOne(db, m, f, cfg, rng)
		if err != nil {
			row.OK = false
			row.Problem = err.Error()
		}
		rows = append(rows, row)
	}
	rows = append(rows, runParticleSets(db, m, cfg, progress)...)
	return rows, nil
}

func runOne(db *store.DB, m *realdata.Manifest, f realdata.File, cfg Config, rng *rand.Rand) (Row, error) {
	row := Row{Name: f.Name(), Kind: f.Kind(), Shape: f.Shape, DType: f.DType, MB: float64(f.Bytes) / 1e6}
	dtype, err := codecs.ParseDType(f.DType)
	if err != nil {
		return row, err
	}
	opts := store.ArrayOptions{DType: dtype, Shape: f.Shape, Codec: cfg.Codec, Bound: cfg.Bound, Fill: f.Fill}
	if f.Kind() == "particles" && len(f.Shape) == 2 {
		// One chunk per coordinate column, so the codec predicts each of
		// x, y and z along the particle order instead of across them.
		opts.Chunks = []int{min(f.Shape[0], 1<<18), 1}
	}
	path := filepath.Join(m.Dir, f.Path)
	file, err := os.Open(path)
	if err != nil {
		return row, err
	}
	defer file.Close()

	start := time.Now()
	info, err := db.Import(row.Name, file, f.Bytes, opts, nil)
	if err != nil {
		return row, err
	}
	row.WriteMBps = row.MB / time.Since(start).Seconds()
	row.Allowed = info.AbsBound

	st, err := db.Stat(row.Name)
	if err != nil {
		return row, err
	}
	row.Ratio = st.Ratio
	row.Codec = codecSummary(st.Codecs)

	raw, err := os.ReadFile(path)
	if err != nil {
		return row, err
	}
	switch dtype {
	case codecs.Float32:
		err = check(db, &row, info, decodeLE[float32](raw), rng)
	default:
		err = check(db, &row, info, decodeLE[float64](raw), rng)
	}
	return row, err
}

// check reads the array back whole and in a random region and compares
// both with orig.
func check[T float32 | float64](db *store.DB, row *Row, info *store.ArrayInfo, orig []T, rng *rand.Rand) error {
	shape := chunk.Shape(info.Shape)
	dec := make([]T, len(orig))
	start := time.Now()
	if err := db.Read(info.Name, chunk.Full(shape), dec); err != nil {
		return err
	}
	row.ReadMBps = row.MB / time.Since(start).Seconds()
	whole := qos.Compare(orig, dec, info.AbsBound, info.Fill)
	row.MaxError, row.PSNR = whole.MaxAbsError, whole.PSNR

	region := randomRegion(shape, rng)
	row.Region = region.String()
	part := make([]T, region.Count())
	if err := db.Read(info.Name, region, part); err != nil {
		return err
	}
	want := make([]T, region.Count())
	chunk.Copy(want, region.Shape(), make([]int, len(shape)), orig, shape, region.Start, region.Shape())
	sub := qos.Compare(want, part, info.AbsBound, info.Fill)
	row.RegionMaxError = sub.MaxAbsError

	row.OK = whole.OK() && sub.OK()
	if err := whole.Err(); err != nil {
		return fmt.Errorf("whole array: %w", err)
	}
	if err := sub.Err(); err != nil {
		return fmt.Errorf("region %v: %w", region, err)
	}
	return nil
}

// randomRegion returns a region of shape with a random start and stop in
// every dimension.
func randomRegion(shape chunk.Shape, rng *rand.Rand) chunk.Region {
	r := chunk.Region{Start: make([]int, len(shape)), Stop: make([]int, len(shape))}
	for i, d := range shape {
		a, b := rng.IntN(d), rng.IntN(d)
		r.Start[i], r.Stop[i] = min(a, b), max(a, b)+1
	}
	return r
}

func codecSummary(counts map[string]int) string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return counts[names[i]] > counts[names[j]] })
	return strings.Join(names, "+")
}

func decodeLE[T float32 | float64](raw []byte) []T {
	var zero T
	switch any(zero).(type) {
	case float32:
		out := make([]T, len(raw)/4)
		for i := range out {
			out[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		return out
	default:
		out := make([]T, len(raw)/8)
		for i := range out {
			out[i] = T(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
		return out
	}
}
