// Package codectest holds test helpers shared by the codec tests.
package codectest

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/epsilon-db/epsilon/codecs"
)

// maxReported is the number of bad values RequireWithinBound lists before it
// stops.
const maxReported = 10

// RequireWithinBound checks every value of got against want, both raw chunk
// bytes of dtype dt, and fails tb with the first bad values listed. Float
// values follow the codec contract, compared in float64: NaN, infinities and
// values equal to the fill value (after conversion to dt) must be bit-exact,
// and every other value must be finite and within bound of the original.
// With bound 0, and for integer dtypes, every value must be bit-exact.
func RequireWithinBound(tb testing.TB, dt codecs.DType, want, got []byte, bound float64, hasFill bool, fill float64) {
	tb.Helper()
	if len(want) != len(got) {
		tb.Fatalf("decoded %d bytes, expected %d", len(got), len(want))
	}
	if !dt.IsFloat() || bound == 0 {
		requireBitExact(tb, dt, want, got)
		return
	}
	size := dt.Size()
	bad := 0
	for i := 0; i < len(want); i += size {
		var w, g float64
		var wBits, gBits uint64
		var isFill bool
		if dt == codecs.Float32 {
			wBits = uint64(binary.LittleEndian.Uint32(want[i:]))
			gBits = uint64(binary.LittleEndian.Uint32(got[i:]))
			w32 := math.Float32frombits(uint32(wBits))
			w, g = float64(w32), float64(math.Float32frombits(uint32(gBits)))
			isFill = hasFill && w32 == float32(fill)
		} else {
			wBits = binary.LittleEndian.Uint64(want[i:])
			gBits = binary.LittleEndian.Uint64(got[i:])
			w, g = math.Float64frombits(wBits), math.Float64frombits(gBits)
			isFill = hasFill && w == fill
		}

		exact := isFill || math.IsNaN(w) || math.IsInf(w, 0)
		switch {
		case exact && wBits != gBits:
			tb.Errorf("value %d: got bits %#x (%v), expected bit-exact %#x (%v)", i/size, gBits, g, wBits, w)
		case !exact && !(math.Abs(w-g) <= bound):
			tb.Errorf("value %d: got %v, expected %v within %v (error %v)", i/size, g, w, bound, math.Abs(w-g))
		default:
			continue
		}
		bad++
		if bad == maxReported {
			tb.Fatalf("stopped after %d bad values", bad)
		}
	}
	if bad > 0 {
		tb.FailNow()
	}
}

func requireBitExact(tb testing.TB, dt codecs.DType, want, got []byte) {
	tb.Helper()
	size := dt.Size()
	bad := 0
	for i := 0; i+size <= len(want); i += size {
		if string(want[i:i+size]) == string(got[i:i+size]) {
			continue
		}
		tb.Errorf("value %d: got bytes %x, expected bit-exact %x", i/size, got[i:i+size], want[i:i+size])
		bad++
		if bad == maxReported {
			break
		}
	}
	if bad > 0 {
		tb.FailNow()
	}
}
