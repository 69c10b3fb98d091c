package demo

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/particles"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
)

// particleSet is a particle position file with the FoF geometry its groups
// are defined in.
type particleSet struct {
	file     string // substring of the position file name
	box      float64
	periodic bool
	link     float64
}

// particleSets are the particle sets with the linking lengths at b = 0.2 of
// the mean spacing.
var particleSets = []particleSet{
	{"abacus_mini_N64_L32_z0_pos", 32, true, 0.1},
	{"hfof_cosmo32768_pos", 1, true, 0.00625},
	{"hacc_toy_m000_step50_pos", 256, true, 1.6},
}

// runParticleSets stores each particle set as a particle dataset at the
// demo's bound, resolved against the box, and checks that positions are
// within bound and FoF groups are identical.
func runParticleSets(db *store.DB, m *realdata.Manifest, cfg Config, progress func(string)) []Row {
	var rows []Row
	for _, ps := range particleSets {
		f, ok := m.Lookup(ps.file)
		if !ok {
			continue
		}
		if progress != nil {
			progress(f.Name() + " (particles)")
		}
		row, err := runParticleSet(db, m, f, ps, cfg)
		if err != nil {
			row.OK = false
			row.Problem = err.Error()
		}
		rows = append(rows, row)
	}
	return rows
}

func runParticleSet(db *store.DB, m *realdata.Manifest, f realdata.File, ps particleSet, cfg Config) (Row, error) {
	name := f.Name() + "-fof"
	row := Row{Name: name, Kind: "particle-set", Shape: f.Shape, DType: f.DType, MB: float64(f.Bytes) / 1e6, Codec: "lorenzo+fof-correction"}
	raw, err := m.Read(f)
	if err != nil {
		return row, err
	}
	if f.DType != "float32" || len(raw)%12 != 0 {
		return row, fmt.Errorf("%s: expected N×3 float32 positions", f.Path)
	}
	n := len(raw) / 12
	ds := &particles.Dataset{DType: codecs.Float32, X: make([]float64, n), Y: make([]float64, n), Z: make([]float64, n)}
	for i := range n {
		ds.X[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[12*i:])))
		ds.Y[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[12*i+4:])))
		ds.Z[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[12*i+8:])))
	}
	bound := cfg.Bound.Absolute(ps.box)
	if cfg.Bound.Mode == codecs.ModeNone || !(bound > 0) {
		return row, fmt.Errorf("bound %s: particle datasets need a lossy bound", cfg.Bound)
	}
	row.Allowed = bound
	space := particles.Space{Box: ps.box, Periodic: ps.periodic}

	start := time.Now()
	if _, err := particles.Write(db, name, ds, particles.Options{Box: ps.box, Periodic: ps.periodic, Link: ps.link, Bound: bound}); err != nil {
		return row, err
	}
	row.WriteMBps = row.MB / time.Since(start).Seconds()
	st, err := particles.StatDataset(db, name)
	if err != nil {
		return row, err
	}
	row.Ratio = st.PositionRatio

	start = time.Now()
	got, _, err := particles.Read(db, name, particles.ReadOptions{})
	if err != nil {
		return row, err
	}
	row.ReadMBps = row.MB / time.Since(start).Seconds()
	worst := qos.ErrorStats{}
	for axis, pair := range [][2][]float64{{ds.X, got.X}, {ds.Y, got.Y}, {ds.Z, got.Z}} {
		s := qos.Compare(pair[0], pair[1], bound, nil)
		if err := s.Err(); err != nil {
			return row, fmt.Errorf("axis %d: %w", axis, err)
		}
		if s.MaxAbsError >= worst.MaxAbsError {
			worst = s
		}
	}
	row.MaxError, row.PSNR = worst.MaxAbsError, worst.PSNR
	want, err := particles.FoF(ds.X, ds.Y, ds.Z, space, ps.link)
	if err != nil {
		return row, err
	}
	have, err := particles.FoF(got.X, got.Y, got.Z, space, ps.link)
	if err != nil {
		return row, err
	}
	if r := want.Relabelled(have); r > 0 {
		return row, fmt.Errorf("FoF groups at linking length %g differ: %d particles relabelled", ps.link, r)
	}
	row.Region = fmt.Sprintf("fof link %g: %d groups identical", ps.link, want.Count())
	row.OK = true
	return row, nil
}
