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
