package particles

import (
	"testing"
)

// BenchmarkFoFAbacus groups the 262,144 Abacus particles at linking length
// 0.1 in the periodic 32 Mpc/h box on one goroutine.
func BenchmarkFoFAbacus(b *testing.B) {
	s := abacus(b)
	b.SetBytes(int64(len(s.x) * 12))
	b.ResetTimer()
	for b.Loop() {
		if _, err := FoF(s.x, s.y, s.z, s.space, s.link); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.x))/(float64(b.Elapsed().Seconds())/float64(b.N))/1e6, "Mparticles/s")
}

// BenchmarkReadAbacus decodes the Abacus positions stored at 0.2 times the
// linking length (sub-benchmark decode) and applies the correction to them
// (correct), and reports the stored sizes.
func BenchmarkReadAbacus(b *testing.B) {
	s := abacus(b)
	db := openStore(b)
	info, err := Write(db, "set", s.dataset(), Options{Box: s.space.Box, Periodic: true, Link: s.link, Bound: 0.2 * s.link})
	if err != nil {
		b.Fatal(err)
	}
	st, err := StatDataset(db, "set")
	if err != nil {
		b.Fatal(err)
	}
	pos, err := ReadPositions(db, "set", info)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(s.x) * 12))
		for b.Loop() {
			if _, err := ReadPositions(db, "set", info); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(st.PositionRatio, "ratio")
	})
	b.Run("correct", func(b *testing.B) {
		b.SetBytes(int64(len(s.x) * 12))
		var work [3][]float64
		for b.Loop() {
			b.StopTimer()
			for d := range 3 {
				work[d] = append(work[d][:0], pos[d]...)
			}
			b.StartTimer()
			if err := Correct(db, "set", info, work); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(100*float64(st.CorrectionBytes)/float64(st.PositionBytes), "correction%")
	})
}
