package particles

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/epsilon-db/epsilon/internal/realdata"
)

// realSet is a particle set of the real data with its reference geometry.
type realSet struct {
	name    string
	x, y, z []float64
	vel     [3][]float64
	ids     []int64
	space   Space
	link    float64
}

// loadRealSet reads the positions (and velocities and ids, when the data
// set has them) of the particle file whose name contains prefix.
func loadRealSet(t testing.TB, prefix string, box, link float64) *realSet {
	t.Helper()
	m := realdata.ForTest(t)
	s := &realSet{name: prefix, space: Space{Box: box, Periodic: true}, link: link}
	s.x, s.y, s.z = readColumns(t, m, prefix+"_pos")
	if _, ok := m.Lookup(prefix + "_vel"); ok {
		s.vel[0], s.vel[1], s.vel[2] = readColumns(t, m, prefix+"_vel")
	}
	if f, ok := m.Lookup(prefix + "_lagid_u32"); ok {
		raw, err := m.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+4 <= len(raw); i += 4 {
			s.ids = append(s.ids, int64(binary.LittleEndian.Uint32(raw[i:])))
		}
	}
	if f, ok := m.Lookup(prefix + "_id_i64"); ok {
		raw, err := m.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+8 <= len(raw); i += 8 {
			s.ids = append(s.ids, int64(binary.LittleEndian.Uint64(raw[i:])))
		}
	}
	return s
}

func readColumns(t testing.TB, m *realdata.Manifest, sub string) (x, y, z []float64) {
	t.Helper()
	f, ok := m.Lookup(sub)
	if !ok {
		t.Fatalf("no file matching %q in %s", sub, m.Dir)
	}
	raw, err := m.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	n := len(raw) / 12
	x, y, z = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		x[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[12*i:])))
		y[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[12*i+4:])))
		z[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[12*i+8:])))
	}
	return x, y, z
}

func abacus(t testing.TB) *realSet {
	return loadRealSet(t, "abacus_mini_N64_L32_z0", 32, 0.1)
}

func hfof(t testing.TB) *realSet {
	return loadRealSet(t, "hfof_cosmo32768", 1, 0.00625)
}

func hacc(t testing.TB) *realSet {
	return loadRealSet(t, "hacc_toy_m000_step50", 256, 1.6)
}
