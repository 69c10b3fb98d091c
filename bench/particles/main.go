// Command particles measures particle datasets on the real particle sets:
// stored sizes with and without the correction that keeps friends-of-friends
// groups, the time of each step, and the ratio of SZ3 on the same positions
// at the same absolute bound.
//
//	go run ./bench/particles --data ../shared/data [--python .venv/bin/python]
//
// SZ3 runs through bench/particles/sz3.py with h5py and hdf5plugin; set up
// with python3 -m venv .venv && .venv/bin/pip install numpy h5py hdf5plugin.
// Without them the SZ3 column reads "-".
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/particles"
	"github.com/epsilon-db/epsilon/store"
)

// set is a particle set of the real data with its FoF geometry.
type set struct {
	name, prefix string
	box, link    float64
}

var sets = []set{
	{"abacus", "abacus_mini_N64_L32_z0", 32, 0.1},
	{"hfof", "hfof_cosmo32768", 1, 0.00625},
	{"hacc", "hacc_toy_m000_step50", 256, 1.6},
}

// fractions are the position bounds as fractions of the linking length.
var fractions = []float64{0.05, 0.2}

// row is one line of the table.
type row struct {
	Set            string  `json:"set"`
	Bound          float64 `json:"bound"`
	Fraction       float64 `json:"bound_over_link"`
	PositionRatio  float64 `json:"position_ratio"`
	Ratio          float64 `json:"ratio"`
	RatioStored    float64 `json:"ratio_stored_order"`
	CorrectionB    int64   `json:"correction_bytes"`
	CorrectionPct  float64 `json:"correction_percent"`
	OrderBytes     int64   `json:"order_bytes"`
	Pairs          int     `json:"pairs"`
	Moved          int     `json:"moved"`
	Exact          int     `json:"exact"`
	WriteS         float64 `json:"write_s"`
	DecodeS        float64 `json:"decode_s"`
	CorrectS       float64 `json:"correct_s"`
	FoFS           float64 `json:"fof_s"`
	Relabelled     int     `json:"relabelled_without_correction"`
	RelabelledWith int     `json:"relabelled_with_correction"`
	SZ3            float64 `json:"sz3_ratio"`
}

func main() {
	dataDir := flag.String("data", "../shared/data", "real data folder")
	python := flag.String("python", ".venv/bin/python", "Python with numpy, h5py and hdf5plugin for the SZ3 column")
	jsonOut := flag.Bool("json", false, "print JSON rows")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	m, err := realdata.Load(*dataDir)
	if err != nil {
		fail(err)
	}
	tmp, err := os.MkdirTemp("", "particles-bench")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	var rows []row
	for _, s := range sets {
		ds, posPath, err := load(m, s.prefix)
		if err != nil {
			fail(err)
		}
		sz3 := sz3Ratios(*python, posPath, s.link)
		for _, f := range fractions {
			r, err := measure(filepath.Join(tmp, fmt.Sprintf("%s-%g", s.name, f)), s, ds, f)
			if err != nil {
				fail(fmt.Errorf("%s at %g×link: %w", s.name, f, err))
			}
			r.SZ3 = sz3[f]
			rows = append(rows, r)
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			fail(err)
		}
		return
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "set\tbound\tpos ratio\tratio\tratio stored order\tcorr B\tcorr %\torder B\tpairs\tmoved\texact\twrite s\tdecode s\tcorrect s\tFoF s\trelabelled plain\trelabelled\tSZ3 ratio\t")
	for _, r := range rows {
		sz3 := "-"
		if r.SZ3 > 0 {
			sz3 = fmt.Sprintf("%.2f", r.SZ3)
		}
		fmt.Fprintf(w, "%s\t%gℓ\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%d\t%d\t%d\t%d\t%.3f\t%.4f\t%.4f\t%.3f\t%d\t%d\t%s\t\n",
			r.Set, r.Fraction, r.PositionRatio, r.Ratio, r.RatioStored, r.CorrectionB, r.CorrectionPct, r.OrderBytes, r.Pairs, r.Moved, r.Exact,
			r.WriteS, r.DecodeS, r.CorrectS, r.FoFS, r.Relabelled, r.RelabelledWith, sz3)
	}
	w.Flush()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "particles bench:", err)
	os.Exit(1)
}

// measure writes ds at bound f×link into a new store in dir and reads it
// back.
func measure(dir string, s set, ds *particles.Dataset, f float64) (row, error) {
	r := row{Set: s.name, Fraction: f, Bound: f * s.link}
	db, err := store.Open(dir, &store.Options{NoSync: true})
	if err != nil {
		return r, err
	}
	defer db.Close()
	space := particles.Space{Box: s.box, Periodic: true}
	o := particles.Options{Box: s.box, Periodic: true, Link: s.link, Bound: r.Bound, VelocityBound: velocityBound(ds)}
	start := time.Now()
	info, err := particles.Write(db, s.name, ds, o)
	if err != nil {
		return r, err
	}
	r.WriteS = time.Since(start).Seconds()
	st, err := particles.StatDataset(db, s.name)
	if err != nil {
		return r, err
	}
	r.PositionRatio, r.Ratio = st.PositionRatio, st.Ratio
	r.CorrectionB = st.CorrectionBytes
	r.CorrectionPct = 100 * float64(st.CorrectionBytes) / float64(st.PositionBytes)
	for name, b := range st.Arrays {
		if strings.HasSuffix(name, "/perm") || strings.HasSuffix(name, "/id") {
			r.OrderBytes += b
		}
	}
	// OrderStored stores the same arrays but the permutation.
	r.RatioStored = float64(st.RawBytes) / float64(st.StoredBytes-st.Arrays[s.name+"/perm"])
	c := info.Correction
	r.Pairs, r.Moved, r.Exact, r.Relabelled = c.Pairs, c.MovedParticles, c.ExactParticles, c.Relabelled

	// Decode and correct in stored order, best of three.
	r.DecodeS, r.CorrectS = math.Inf(1), math.Inf(1)
	var pos [3][]float64
	for range 3 {
		start = time.Now()
		if pos, err = particles.ReadPositions(db, s.name, info); err != nil {
			return r, err
		}
		r.DecodeS = min(r.DecodeS, time.Since(start).Seconds())
		start = time.Now()
		if err := particles.Correct(db, s.name, info, pos); err != nil {
			return r, err
		}
		r.CorrectS = min(r.CorrectS, time.Since(start).Seconds())
	}
	r.FoFS = math.Inf(1)
	for range 3 {
		start = time.Now()
		if _, err := particles.FoF(pos[0], pos[1], pos[2], space, s.link); err != nil {
			return r, err
		}
		r.FoFS = min(r.FoFS, time.Since(start).Seconds())
	}

	// Groups of what Read returns, against the original ones.
	got, _, err := particles.Read(db, s.name, particles.ReadOptions{})
	if err != nil {
		return r, err
	}
	got = originalOrder(ds, got)
	want, err := particles.FoF(ds.X, ds.Y, ds.Z, space, s.link)
	if err != nil {
		return r, err
	}
	have, err := particles.FoF(got.X, got.Y, got.Z, space, s.link)
	if err != nil {
		return r, err
	}
	r.RelabelledWith = want.Relabelled(have)
	return r, nil
}

// velocityBound is 1e-3 of the largest velocity component, or 0 (lossless)
// without velocities.
func velocityBound(ds *particles.Dataset) float64 {
	top := 0.0
	for _, v := range [][]float64{ds.VX, ds.VY, ds.VZ} {
		for _, c := range v {
			top = max(top, math.Abs(c))
		}
	}
	return 1e-3 * top
}

// originalOrder returns got, which Read returned in stored order when the
// set has ids, in the order of ds.
func originalOrder(ds, got *particles.Dataset) *particles.Dataset {
	if ds.IDs == nil || len(got.IDs) == 0 || got.IDs[0] == ds.IDs[0] && got.IDs[len(got.IDs)-1] == ds.IDs[len(ds.IDs)-1] {
		return got
	}
	at := make(map[int64]int, len(ds.IDs))
	for i, id := range ds.IDs {
		at[id] = i
	}
	out := &particles.Dataset{X: make([]float64, len(got.X)), Y: make([]float64, len(got.X)), Z: make([]float64, len(got.X))}
	for k, id := range got.IDs {
		i := at[id]
		out.X[i], out.Y[i], out.Z[i] = got.X[k], got.Y[k], got.Z[k]
	}
	return out
}

// load reads the positions, velocities and ids of the set whose files start
// with prefix, and returns the path of the position file.
func load(m *realdata.Manifest, prefix string) (*particles.Dataset, string, error) {
	f, ok := m.Lookup(prefix + "_pos")
	if !ok {
		return nil, "", fmt.Errorf("no position file %s_pos in %s", prefix, m.Dir)
	}
	posPath := filepath.Join(m.Dir, f.Path)
	cols, _, err := particles.LoadColumns(posPath, codecs.Float32, 3)
	if err != nil {
		return nil, "", err
	}
	ds := &particles.Dataset{DType: codecs.Float32, X: cols[0], Y: cols[1], Z: cols[2]}
	if f, ok := m.Lookup(prefix + "_vel"); ok {
		v, _, err := particles.LoadColumns(filepath.Join(m.Dir, f.Path), codecs.Float32, 3)
		if err != nil {
			return nil, "", err
		}
		ds.VX, ds.VY, ds.VZ = v[0], v[1], v[2]
	}
	for _, id := range []struct {
		sub   string
		dtype codecs.DType
	}{{"_lagid_u32", codecs.Uint32}, {"_id_i64", codecs.Int64}} {
		if f, ok := m.Lookup(prefix + id.sub); ok {
			if ds.IDs, err = particles.LoadIDs(filepath.Join(m.Dir, f.Path), id.dtype); err != nil {
				return nil, "", err
			}
		}
	}
	return ds, posPath, nil
}

// sz3Ratios returns the SZ3 ratio at each bound fraction of link, the
// better of per-column and N×3 compression, or nothing when the Python
// script cannot run.
func sz3Ratios(python, posPath string, link float64) map[float64]float64 {
	out := map[float64]float64{}
	args := []string{filepath.Join("bench", "particles", "sz3.py"), posPath}
	for _, f := range fractions {
		args = append(args, fmt.Sprint(f*link))
	}
	raw, err := exec.Command(python, args...).Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "particles bench: SZ3 skipped: %s %s: %v\n", python, strings.Join(args, " "), err)
		return out
	}
	var res map[string]map[string]float64
	if err := json.Unmarshal(raw, &res); err != nil {
		fmt.Fprintf(os.Stderr, "particles bench: SZ3 output: %v\n", err)
		return out
	}
	for _, f := range fractions {
		for k, v := range res {
			var b float64
			if _, err := fmt.Sscan(k, &b); err == nil && math.Abs(b-f*link) <= 1e-12*link {
				out[f] = max(v["columns"], v["nx3"])
			}
		}
	}
	return out
}
