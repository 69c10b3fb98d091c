package qos

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// Field is one array held in memory for training and evaluation.
type Field struct {
	Name   string
	Family string
	Shape  []int
	DType  codecs.DType
	Fill   *float64
	Raw    []byte
}

// Families of the real data set, used by leave-one-family-out evaluation.
// A field belongs to the family whose prefix its name starts with.
var familyPrefixes = []struct{ prefix, family string }{
	{"cesm", "climate"}, {"ccsm", "climate"}, {"pop", "climate"}, {"ncar_uvt", "climate"}, {"foam", "climate"},
	{"vapor", "turbulence"}, {"sperr", "turbulence"},
	{"nyx", "cosmology"},
	{"sz3_testfloat", "other"},
}

// FamilyOf returns the family of a field name, or "other".
func FamilyOf(name string) string {
	for _, p := range familyPrefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.family
		}
	}
	return "other"
}

// LoadFields reads the float fields of a data folder: a folder with a
// manifest.json (every float field in it), or a subfolder of one such as
// its fields/ folder (the fields under it).
func LoadFields(dir string) ([]Field, error) {
	m, err := realdata.Load(dir)
	sub := ""
	if err != nil {
		parent := filepath.Dir(filepath.Clean(dir))
		if m, err = realdata.Load(parent); err != nil {
			return nil, fmt.Errorf("data folder %s: no manifest.json in it or its parent folder", dir)
		}
		sub = filepath.Base(filepath.Clean(dir)) + "/"
	}
	var out []Field
	for _, f := range m.Fields() {
		if !strings.HasPrefix(f.Path, sub) {
			continue
		}
		dt, err := codecs.ParseDType(f.DType)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		raw, err := m.Read(f)
		if err != nil {
			return nil, err
		}
		if want := chunk.Shape(f.Shape).Count() * dt.Size(); len(raw) != want {
			return nil, fmt.Errorf("%s: %d bytes, shape %v of %s needs %d", f.Path, len(raw), f.Shape, dt, want)
		}
		out = append(out, Field{Name: f.Name(), Family: FamilyOf(f.Name()), Shape: f.Shape, DType: dt, Fill: f.Fill, Raw: raw})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("data folder %s holds no float32 or float64 field", dir)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	return out, nil
}

// valueRange returns max - min of the valid values of vals.
func valueRange(vals []float64, fill *float64) (lo, hi float64) {
	lo, hi = 1, 0
	first := true
	for _, v := range vals {
		if v-v != 0 || (fill != nil && v == *fill) {
			continue
		}
		if first {
			lo, hi, first = v, v, false
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// splitChunks cuts a field into chunks of chunkShape and computes their
// features.
func splitChunks(f *Field, chunkShape []int) ([]*chunkData, error) {
	grid, err := chunk.NewGrid(f.Shape, chunkShape)
	if err != nil {
		return nil, err
	}
	size := f.DType.Size()
	var out []*chunkData
	err = grid.ForEach(chunk.Full(f.Shape), func(c []int) error {
		region := grid.ChunkRegion(c)
		raw := make([]byte, 0, region.Count()*size)
		_ = chunk.Runs(f.Shape, region.Start, region.Shape(), func(off, n int) error {
			raw = append(raw, f.Raw[off*size:(off+n)*size]...)
			return nil
		})
		out = append(out, newChunkData(append([]int(nil), c...), region.Shape(), raw, f.DType, f.Fill))
		return nil
	})
	return out, err
}

func newChunkData(coords, shape []int, raw []byte, dt codecs.DType, fill *float64) *chunkData {
	vals, fillT := floatsOf(raw, dt, fill)
	feat := computeFeatures(vals, shape, fillT, dt == codecs.Float64)
	feat.addWindows(vals, shape, fillT)
	return &chunkData{Coords: coords, Shape: shape, Raw: raw, Vals: vals, Feat: feat}
}

// params returns the codec parameters of a field's chunks.
func fieldParams(dt codecs.DType, fill *float64) codecs.Params {
	p := codecs.Params{DType: dt}
	if fill != nil {
		p.HasFill, p.Fill = true, *fill
	}
	return p
}
