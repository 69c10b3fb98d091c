package codecs_test

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

func pwrel(v float64) codecs.Bound { return codecs.Bound{Mode: codecs.ModePWRel, Value: v} }

// requirePointwise checks every value of got against want, both raw bytes of
// dt: NaN, ±Inf, zeros and fill values bit-exact, every other value with
// |x - x'| <= rel*|x| and the same sign, compared in float64.
func requirePointwise(t testing.TB, dt codecs.DType, want, got []byte, rel float64, hasFill bool, fill float64) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	size := dt.Size()
	bad := 0
	for i := 0; i < len(want); i += size {
		var w, g float64
		var wBits, gBits uint64
		isFill := false
		if dt == codecs.Float32 {
			wBits, gBits = uint64(binary.LittleEndian.Uint32(want[i:])), uint64(binary.LittleEndian.Uint32(got[i:]))
			w, g = float64(math.Float32frombits(uint32(wBits))), float64(math.Float32frombits(uint32(gBits)))
			isFill = hasFill && float32(w) == float32(fill)
		} else {
			wBits, gBits = binary.LittleEndian.Uint64(want[i:]), binary.LittleEndian.Uint64(got[i:])
			w, g = math.Float64frombits(wBits), math.Float64frombits(gBits)
			isFill = hasFill && w == fill
		}
		exact := isFill || w == 0 || w-w != 0
		switch {
		case exact && wBits != gBits:
			t.Errorf("value %d: got bits %#x (%v), expected bit-exact %#x (%v)", i/size, gBits, g, wBits, w)
		case !exact && !(math.Abs(w-g) <= rel*math.Abs(w)):
			t.Errorf("value %d: got %v, expected %v within %v relative (relative error %v)", i/size, g, w, rel, math.Abs(w-g)/math.Abs(w))
		case !exact && math.Signbit(w) != math.Signbit(g):
			t.Errorf("value %d: got %v, expected the sign of %v", i/size, g, w)
		default:
			continue
		}
		bad++
		if bad == 10 {
			t.FailNow()
		}
	}
}

// roundTripPWRel encodes raw under a point-wise relative bound, checks the
// decoded values, and returns the stream.
func roundTripPWRel(t testing.TB, raw []byte, p codecs.Params) []byte {
	t.Helper()
	stream, err := codecs.Encode(nil, codecs.Lorenzo, pwrel(p.Bound), p, raw)
	require.NoError(t, err)
	got := make([]byte, len(raw))
	h, err := codecs.Decode(got, stream)
	require.NoError(t, err)
	if h.Codec != codecs.IDLossless {
		require.Equal(t, codecs.TransformPWRel, h.Transform)
		require.Equal(t, p.Bound, h.AbsBound)
	}
	requirePointwise(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)
	return stream
}

func TestPWRelRealFields(t *testing.T) {
	m := realdata.ForTest(t)
	rels := []float64{1e-2, 1e-3, 1e-4, 1e-6}
	if testing.Short() {
		rels = []float64{1e-2, 1e-4}
	}
	for _, f := range m.Fields() {
		raw, err := m.Read(f)
		require.NoError(t, err)
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			data := raw
			switch {
			case f.DType == "float32" && dt == codecs.Float64:
				data = f32ToF64(raw)
			case f.DType == "float64" && dt == codecs.Float32:
				continue // narrowing would change the field
			}
			p := codecs.Params{DType: dt, Shape: f.Shape}
			if f.Fill != nil {
				p.HasFill, p.Fill = true, *f.Fill
			}
			for _, rel := range rels {
				t.Run(fmt.Sprintf("%s_%s_%g", f.Name(), dt, rel), func(t *testing.T) {
					p.Bound = rel
					stream := roundTripPWRel(t, data, p)
					t.Logf("ratio %.2f", float64(len(data))/float64(len(stream)))
				})
			}
		}
	}
}

func TestPWRelAwkwardValues(t *testing.T) {
	sub32 := float64(math.Float32frombits(1)) // smallest float32 subnormal
	sub64 := math.Float64frombits(1)          // smallest float64 subnormal
	max32 := float64(math.MaxFloat32)         // largest float32
	nearMax32 := float64(math.Nextafter32(math.MaxFloat32, 0))
	cases := map[string][]float64{
		"nan_first":  {math.NaN(), 1, 2, 3, 4, 5, 6, 7},
		"zeros":      {0, math.Copysign(0, -1), 0, 1.5, 0, -2.5, 0, 0},
		"negatives":  {-1, -2, -3, -4, -1e-3, -1e3, -7, -8},
		"mixed_sign": {1, -1, 2, -2, 3, -3, 1e-30, -1e30},
		"subnormals": {sub32, 2 * sub32, 100 * sub32, -sub32, 1e-40, -1e-42, 1e-38, 1},
		"near_max":   {max32, -max32, nearMax32, 3e38, -3.3e38, 1, math.Inf(1), math.Inf(-1)},
		"f64_tiny":   {sub64, 1e-310, -1e-320, 1e-300, 1e300, -1.7e308, math.MaxFloat64, 1},
		"fill":       {-9, 1, 2, -9, 3, 4, -9, 5},
	}
	for name, vals := range cases {
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			for _, rel := range []float64{1e-1, 1e-3, 1e-6, 1e-9} {
				t.Run(fmt.Sprintf("%s_%s_%g", name, dt, rel), func(t *testing.T) {
					p := codecs.Params{DType: dt, Shape: []int{2, len(vals) / 2}, Bound: rel}
					if name == "fill" {
						p.HasFill, p.Fill = true, -9
					}
					roundTripPWRel(t, encodeFloats(dt, vals), p)
				})
			}
		}
	}
}

// TestPWRelLargeAwkwardChunk runs a chunk large enough to take the lossy
// path, with every awkward value mixed into smooth data.
func TestPWRelLargeAwkwardChunk(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := make([]float64, 64*64)
	for i := range vals {
		vals[i] = 100 * math.Sin(float64(i)/50) * math.Exp(float64(i%64)/20)
	}
	specials := []float64{math.NaN(), 0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), 1e-40, -1e-45, 3.4e38, -3.4e38, -9}
	vals[0] = math.NaN()
	for _, v := range specials {
		vals[rng.IntN(len(vals))] = v
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		for _, rel := range []float64{1e-2, 1e-4, 1e-6} {
			t.Run(fmt.Sprintf("%s_%g", dt, rel), func(t *testing.T) {
				p := codecs.Params{DType: dt, Shape: []int{64, 64}, Bound: rel, HasFill: true, Fill: -9}
				raw := encodeFloats(dt, vals)
				stream := roundTripPWRel(t, raw, p)
				h, _, err := codecs.ParseHeader(stream)
				require.NoError(t, err)
				if rel >= 1e-4 {
					require.Equal(t, codecs.TransformPWRel, h.Transform, "smooth data must compress under pwrel")
				}
			})
		}
	}
}

func TestPWRelRejectsBoundOfOne(t *testing.T) {
	p := codecs.Params{DType: codecs.Float32, Shape: []int{4}, Bound: 1}
	_, err := codecs.Encode(nil, codecs.Lorenzo, pwrel(1), p, encodeFloats(codecs.Float32, []float64{1, 2, 3, 4}))
	require.ErrorContains(t, err, "less than 1")
}

func TestDeltaRoundTrip(t *testing.T) {
	const n = 4096
	prev := make([]float64, n)
	next := make([]float64, n)
	for i := range prev {
		prev[i] = 280 + 20*math.Sin(float64(i)/100)
		next[i] = prev[i] + 0.3*math.Cos(float64(i)/40)
	}
	next[0], next[5], next[6] = math.NaN(), 0, math.Inf(-1)
	prev[7] = math.NaN() // a reference that is not finite forces a verbatim value
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			p := codecs.Params{DType: dt, Shape: []int{64, 64}, Bound: 1e-3}
			ref, src := encodeFloats(dt, prev), encodeFloats(dt, next)
			recon := make([]byte, len(src))
			stream, err := codecs.EncodeDelta(nil, codecs.Lorenzo, abs(1e-3), p, src, ref, recon)
			require.NoError(t, err)
			h, _, err := codecs.ParseHeader(stream)
			require.NoError(t, err)
			require.Equal(t, codecs.TransformDelta, h.Transform)

			got := make([]byte, len(src))
			_, err = codecs.Decode(got, stream)
			require.ErrorIs(t, err, codecs.ErrNeedsReference)
			_, err = codecs.DecodeDelta(got, stream, ref)
			require.NoError(t, err)
			require.Equal(t, recon, got, "the encoder's reconstruction must equal the decoder's")
			requireWithinAbs(t, dt, src, got, 1e-3)
		})
	}
}

func abs(v float64) codecs.Bound { return codecs.Bound{Mode: codecs.ModeAbs, Value: v} }

// requireWithinAbs checks |x - x'| <= bound for finite x and bit-exactness
// otherwise.
func requireWithinAbs(t *testing.T, dt codecs.DType, want, got []byte, bound float64) {
	t.Helper()
	for i := 0; i < len(want)/dt.Size(); i++ {
		var w, g float64
		if dt == codecs.Float32 {
			w = float64(math.Float32frombits(binary.LittleEndian.Uint32(want[4*i:])))
			g = float64(math.Float32frombits(binary.LittleEndian.Uint32(got[4*i:])))
		} else {
			w = math.Float64frombits(binary.LittleEndian.Uint64(want[8*i:]))
			g = math.Float64frombits(binary.LittleEndian.Uint64(got[8*i:]))
		}
		if w-w != 0 {
			require.Equal(t, math.Float64bits(w), math.Float64bits(g), "value %d", i)
			continue
		}
		require.LessOrEqual(t, math.Abs(w-g), bound, "value %d: got %v, expected %v", i, g, w)
	}
}

func TestTransformByteOfPlainStreamIsZero(t *testing.T) {
	raw, p := goldenInput()
	stream, err := codecs.Encode(nil, codecs.Lorenzo, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
	require.NoError(t, err)
	require.Equal(t, byte(0), stream[10])
	bad := append([]byte(nil), stream...)
	bad[10] = 3
	_, _, err = codecs.ParseHeader(bad)
	require.ErrorIs(t, err, codecs.ErrCorrupt)
}

// pwrelFuzzInput returns a smooth chunk with zeros, negatives and specials.
func pwrelFuzzInput(dt codecs.DType, seed uint64) ([]byte, codecs.Params) {
	rng := rand.New(rand.NewPCG(seed, 1))
	vals := make([]float64, 12*10)
	for i := range vals {
		vals[i] = (1 + float64(i)/7) * math.Pow(10, float64(i%5)-2)
		if rng.IntN(5) == 0 {
			vals[i] = -vals[i]
		}
		if rng.IntN(9) == 0 {
			vals[i] = 0
		}
	}
	vals[3], vals[4] = math.NaN(), -9
	return encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{12, 10}, Bound: 1e-3, HasFill: true, Fill: -9}
}

// FuzzPWRelDecode decodes mutated pwrel payloads: a malformed payload must
// return an error wrapping ErrCorrupt and never panic. The stream is
// re-checksummed after the mutation, so the fuzzer reaches the payload
// parser instead of stopping at the checksum.
func FuzzPWRelDecode(f *testing.F) {
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		raw, p := pwrelFuzzInput(dt, 5)
		stream, err := codecs.Encode(nil, codecs.Lorenzo, pwrel(p.Bound), p, raw)
		if err != nil {
			f.Fatal(err)
		}
		if stream[10] != byte(codecs.TransformPWRel) {
			f.Fatalf("seed stream of %s is not pwrel", dt)
		}
		f.Add(stream[codecs.HeaderLen(2):], dt == codecs.Float64, uint16(0), byte(0))
		f.Add(stream[codecs.HeaderLen(2):], dt == codecs.Float64, uint16(9), byte(0xff))
	}
	f.Fuzz(func(t *testing.T, payload []byte, f64 bool, at uint16, xor byte) {
		dt := codecs.Float32
		if f64 {
			dt = codecs.Float64
		}
		raw, p := pwrelFuzzInput(dt, 5)
		head, err := codecs.Encode(nil, codecs.Lorenzo, pwrel(p.Bound), p, raw)
		require.NoError(t, err)
		hlen := codecs.HeaderLen(2)
		body := append([]byte(nil), payload...)
		if len(body) > 0 {
			body[int(at)%len(body)] ^= xor
		}
		stream := append(append([]byte(nil), head[:hlen]...), body...)
		binary.LittleEndian.PutUint32(stream[hlen-8:], uint32(len(body)))
		crc := crc32c(stream[:hlen-4], body)
		binary.LittleEndian.PutUint32(stream[hlen-4:], crc)

		got := make([]byte, len(raw))
		if _, err := codecs.Decode(got, stream); err != nil {
			require.ErrorIs(t, err, codecs.ErrCorrupt)
		}
	})
}

func crc32c(header, payload []byte) uint32 {
	table := crc32.MakeTable(crc32.Castagnoli)
	return crc32.Update(crc32.Update(0, table, header), table, payload)
}
