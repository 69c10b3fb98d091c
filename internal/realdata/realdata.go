// Package realdata locates and loads the real simulation data set that tests,
// benchmarks and the demo run on. The data set is a folder with a
// manifest.json that lists raw little-endian C-order files with their dtype,
// shape and fill value.
//
// The folder is $EPSILON_DATA when set, otherwise the first "shared/data"
// found in the parent folders of the working directory (which finds
// ../shared/data from the repository root and from every package folder).
package realdata

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// File is one entry of manifest.json.
type File struct {
	// Path is relative to the data folder, for example
	// "fields/cesm_lens_TS_daily_f32_10x192x288.raw".
	Path  string   `json:"-"`
	DType string   `json:"dtype"`
	Shape []int    `json:"shape"`
	Bytes int64    `json:"bytes"`
	Min   float64  `json:"min"`
	Max   float64  `json:"max"`
	Dims  []string `json:"dims"`
	Fill  *float64 `json:"fill"`
	Units string   `json:"units"`
}

// Name returns the file name without folder and extension.
func (f File) Name() string {
	return strings.TrimSuffix(filepath.Base(f.Path), filepath.Ext(f.Path))
}

// Kind returns the top-level folder of the file: "fields" or "particles".
func (f File) Kind() string {
	kind, _, _ := strings.Cut(f.Path, "/")
	return kind
}

// Manifest is the parsed manifest.json of a data folder.
type Manifest struct {
	Dir   string
	Files []File
}

// ErrNotFound is returned when no data folder can be found.
var ErrNotFound = errors.New("real data set not found")

// Dir returns the data folder.
func Dir() (string, error) {
	if d := os.Getenv("EPSILON_DATA"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "manifest.json")); err != nil {
			return "", fmt.Errorf("%w: EPSILON_DATA=%s has no manifest.json", ErrNotFound, d)
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "shared", "data")
		if _, err := os.Stat(filepath.Join(cand, "manifest.json")); err == nil {
			return cand, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("%w: set EPSILON_DATA or place the data set at ../shared/data next to the repository", ErrNotFound)
}

// Load reads manifest.json from dir. Files are sorted by path.
func Load(dir string) (*Manifest, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	var doc struct {
		Files map[string]File `json:"files"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	m := &Manifest{Dir: dir}
	for path, f := range doc.Files {
		f.Path = path
		m.Files = append(m.Files, f)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return m, nil
}

// Fields returns the float32 and float64 gridded fields.
func (m *Manifest) Fields() []File {
	var out []File
	for _, f := range m.Files {
		if f.Kind() == "fields" && (f.DType == "float32" || f.DType == "float64") {
			out = append(out, f)
		}
	}
	return out
}

// Lookup returns the file whose Name contains sub, or false.
func (m *Manifest) Lookup(sub string) (File, bool) {
	for _, f := range m.Files {
		if strings.Contains(f.Name(), sub) {
			return f, true
		}
	}
	return File{}, false
}

// Read returns the raw bytes of f.
func (m *Manifest) Read(f File) ([]byte, error) {
	return os.ReadFile(filepath.Join(m.Dir, f.Path))
}

// ForTest returns the manifest, or ends the test: with a failure when the
// environment variable CI is "true", and with a skip that says where the
// data is expected otherwise.
func ForTest(tb testing.TB) *Manifest {
	tb.Helper()
	dir, err := Dir()
	if err == nil {
		var m *Manifest
		if m, err = Load(dir); err == nil {
			return m
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("real data is required under CI: %v", err)
	}
	tb.Skipf("skipping: %v", err)
	return nil
}
