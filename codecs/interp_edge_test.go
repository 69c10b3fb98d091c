package codecs_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/codecs/codectest"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// lossyCodecs are the codecs the edge-case tests run: interp directly and
// auto through the stream layer.
var lossyCodecs = []codecs.Codec{codecs.Interp, codecs.Auto}

func TestInterpRealFields(t *testing.T) {
	m := realdata.ForTest(t)
	rels := []float64{1e-2, 1e-3, 1e-4, 1e-5, 1e-6}
	if testing.Short() {
		rels = []float64{1e-2, 1e-4}
	}
	for _, f := range m.Fields() {
		t.Run(f.Name(), func(t *testing.T) {
			t.Parallel()
			raw32, err := m.Read(f)
			require.NoError(t, err)
			srcType, err := codecs.ParseDType(f.DType)
			require.NoError(t, err)
			for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
				raw := raw32
				if dt != srcType {
					if srcType != codecs.Float32 {
						continue // only float32 fields are widened
					}
					raw = f32ToF64(raw32)
				}
				for k, rel := range rels {
					r := fieldRatio(t, codecs.Interp, f, raw, dt, rel)
					t.Logf("interp %s rel=%g: ratio %.2f", dt, rel, r)
					// Auto picks interp or lorenzo, both checked at every
					// bound, so every other bound keeps the test short.
					if k%2 == 1 {
						r = fieldRatio(t, codecs.Auto, f, raw, dt, rel)
						t.Logf("auto %s rel=%g: ratio %.2f", dt, rel, r)
					}
				}
			}
		})
	}
}

// roundTripAll runs raw through every codec of lossyCodecs and returns the
// interp payload and the auto stream.
func roundTripAll(t *testing.T, raw []byte, p codecs.Params) (interpPayload, autoStream []byte) {
	t.Helper()
	interpPayload, _ = roundTripCodec(t, codecs.Interp, raw, p)
	_, autoStream = roundTripCodec(t, codecs.Auto, raw, p)
	return interpPayload, autoStream
}

func TestInterpConstant(t *testing.T) {
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		vals := make([]float64, 20*30*40)
		for i := range vals {
			vals[i] = 273.15
		}
		payload, _ := roundTripAll(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{20, 30, 40}, Bound: 1e-4})
		require.Less(t, len(payload), 200, "%s constant chunk", dt)
	}
}

func TestInterpAllNaN(t *testing.T) {
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		vals := make([]float64, 50*60)
		for i := range vals {
			vals[i] = math.NaN()
		}
		roundTripAll(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{50, 60}, Bound: 1e-3})
	}
}

func TestInterpNearFloat32Max(t *testing.T) {
	// max - min overflows float32, and rel 1e-3 of the float64 range is a
	// bound of about 6.8e35.
	vals := smoothField([]int{30, 40})
	for i := range vals {
		vals[i] = math.MaxFloat32 * math.Sin(vals[i])
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		raw := encodeFloats(dt, vals)
		bound := 1e-3 * valueRange(dt, raw, false, 0)
		roundTripAll(t, raw, codecs.Params{DType: dt, Shape: []int{30, 40}, Bound: bound})
		roundTripAll(t, raw, codecs.Params{DType: dt, Shape: []int{30, 40}, Bound: 1e-6 * bound})
	}
}

func TestInterpSubnormals(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := make([]float64, 64*64)
	for i := range vals {
		vals[i] = float64(math.Float32frombits(rng.Uint32N(1 << 23)))
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		for _, bound := range []float64{1e-45, 1e-40, 1e-39} {
			roundTripAll(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{64, 64}, Bound: bound})
		}
	}
}

func TestInterpMostlyFill(t *testing.T) {
	const fill = 9.96921e36
	vals := smoothField([]int{48, 64})
	for i := range vals {
		if (i/64+i%64)%5 < 3 {
			vals[i] = fill
		}
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		p := codecs.Params{DType: dt, Shape: []int{48, 64}, Bound: 1e-2, HasFill: true, Fill: fill}
		payload, _ := roundTripAll(t, encodeFloats(dt, vals), p)
		// Verbatim fill values alone would take 60% of the raw bytes.
		require.Less(t, len(payload), len(vals)*dt.Size()/4, "%s fill costs no verbatim bytes", dt)
	}
}

func TestInterpSpecialValues(t *testing.T) {
	const fill = -999.0
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), fill, math.Copysign(0, -1)}
	shape := []int{9, 11, 13}
	rng := rand.New(rand.NewPCG(7, 8))
	vals := smoothField(shape)
	for i := range vals {
		if rng.IntN(8) == 0 {
			vals[i] = specials[rng.IntN(len(specials))]
		}
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		raw := encodeFloats(dt, vals)
		if dt == codecs.Float32 {
			binary.LittleEndian.PutUint32(raw[4*5:], 0x7fa0_0001) // a NaN payload
		}
		for _, hasFill := range []bool{true, false} {
			p := codecs.Params{DType: dt, Shape: shape, Bound: 1e-3, HasFill: hasFill, Fill: fill}
			roundTripAll(t, raw, p)
		}
		p := codecs.Params{DType: dt, Shape: shape, Bound: 1e-3, HasFill: true, Fill: 0}
		roundTripAll(t, raw, p)
	}
}

func TestInterpRampSmallBound(t *testing.T) {
	vals := make([]float64, 100000)
	for i := range vals {
		vals[i] = float64(i + 1)
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		payload, _ := roundTripAll(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{100000}, Bound: 1e-3})
		require.Less(t, len(payload), len(vals)*dt.Size()/20, "%s ramp", dt)
		roundTripAll(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{250, 400}, Bound: 1e-6})
	}
}

func TestInterpNoiseFallsBackToLossless(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	vals := make([]float64, 64*64)
	for i := range vals {
		vals[i] = rng.Float64()
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		raw := encodeFloats(dt, vals)
		for _, bound := range []float64{1e-3, 1e-12} {
			p := codecs.Params{DType: dt, Shape: []int{64, 64}, Bound: bound}
			for _, c := range lossyCodecs {
				_, stream := roundTripCodec(t, c, raw, p)
				require.LessOrEqual(t, len(stream), len(raw)+codecs.HeaderLen(2)+16, "%s %s bound %g", c.Name(), dt, bound)
			}
		}
	}
}

func TestInterpBoundBelowSpacing(t *testing.T) {
	vals := smoothField([]int{40, 50})
	for i := range vals {
		vals[i] = 1e6 + vals[i]
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		for _, bound := range []float64{1e-9, 1e-300, 5e-324} {
			roundTripAll(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{40, 50}, Bound: bound})
		}
	}
}

func TestInterpShapes(t *testing.T) {
	shapes := [][]int{
		{1}, {1, 1, 1}, {2}, {3}, {5}, {1000},
		{1, 50}, {50, 1}, {1, 1, 30, 1}, {5, 1, 7, 1, 9}, {1, 6, 1, 8}, {1, 96, 144},
		{3, 4, 5, 6}, {2, 3, 4, 5, 6}, {2, 2, 3, 3, 4, 5}, {2, 2, 2, 2, 2, 3, 4}, {2, 2, 2, 2, 2, 2, 2, 3},
		{7, 11, 13}, {97, 101}, {1009}, {2, 3}, {3, 2, 2}, {17, 33, 65}, {300, 2},
	}
	for _, shape := range shapes {
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			t.Run(fmt.Sprintf("%s_%v", dt, shape), func(t *testing.T) {
				roundTripAll(t, encodeFloats(dt, smoothField(shape)), codecs.Params{DType: dt, Shape: shape, Bound: 1e-3})
			})
		}
	}
}

func TestInterpSizeOneDimensionsDropped(t *testing.T) {
	raw := encodeFloats(codecs.Float32, smoothField([]int{96, 144}))
	want, err := codecs.Interp.AppendEncode(nil, raw, codecs.Params{DType: codecs.Float32, Shape: []int{96, 144}, Bound: 1e-3})
	require.NoError(t, err)
	for _, shape := range [][]int{{1, 96, 144}, {96, 1, 144}, {96, 144, 1}, {1, 1, 96, 1, 144}} {
		got, err := codecs.Interp.AppendEncode(nil, raw, codecs.Params{DType: codecs.Float32, Shape: shape, Bound: 1e-3})
		require.NoError(t, err)
		require.Equal(t, want, got, "shape %v must be predicted as 96x144", shape)
	}
}

func TestInterpRejectsUnsupported(t *testing.T) {
	raw := make([]byte, 16)
	for _, p := range []codecs.Params{
		{DType: codecs.Int32, Shape: []int{4}, Bound: 1},
		{DType: codecs.Float32, Shape: []int{4}, Bound: 0},
		{DType: codecs.Float32, Shape: []int{4}, Bound: math.Inf(1)},
		{DType: codecs.Float32, Shape: []int{4}, Bound: math.NaN()},
	} {
		_, err := codecs.Interp.AppendEncode(nil, raw, p)
		require.ErrorIs(t, err, codecs.ErrUnsupported, "params %+v", p)
	}
}

func TestAutoDirectCalls(t *testing.T) {
	raw := encodeFloats(codecs.Float32, smoothField([]int{8, 8}))
	p := codecs.Params{DType: codecs.Float32, Shape: []int{8, 8}, Bound: 1e-3}
	_, err := codecs.Auto.AppendEncode(nil, raw, p)
	require.ErrorIs(t, err, codecs.ErrUnsupported)
	err = codecs.Auto.Decode(make([]byte, len(raw)), []byte{0}, p)
	require.ErrorIs(t, err, codecs.ErrCorrupt)
	require.ErrorIs(t, err, codecs.ErrUnsupported)
}

func TestAutoSelects(t *testing.T) {
	sel := codecs.Auto.(codecs.Selector)
	raw := encodeFloats(codecs.Float32, smoothField([]int{8, 8}))
	p := codecs.Params{DType: codecs.Float32, Shape: []int{8, 8}, Bound: 1e-3}
	require.Contains(t, []codecs.ID{codecs.IDInterp, codecs.IDLorenzo, 4}, sel.Select(raw, p).ID())
	p.Bound = 0
	require.Equal(t, codecs.IDLossless, sel.Select(raw, p).ID())
	ints := codecs.Params{DType: codecs.Int32, Shape: []int{8, 8}, Bound: 1}
	require.Equal(t, codecs.IDLossless, sel.Select(raw, ints).ID())

	// A smooth 2-D field goes to interp, as the ratio table shows for
	// sperr_pressure.
	smooth := make([]float64, 256*256)
	for i := range smooth {
		x, y := float64(i%256)/40, float64(i/256)/40
		smooth[i] = math.Sin(x)*math.Cos(y) + 0.5*math.Sin(2*x+y)
	}
	p = codecs.Params{DType: codecs.Float64, Shape: []int{256, 256}, Bound: 1e-4}
	require.Equal(t, codecs.IDInterp, sel.Select(encodeFloats(codecs.Float64, smooth), p).ID())
}

func TestInterpDecodeRejectsCorrupt(t *testing.T) {
	raw := encodeFloats(codecs.Float32, smoothField([]int{20, 30}))
	p := codecs.Params{DType: codecs.Float32, Shape: []int{20, 30}, Bound: 1e-3}
	payload, err := codecs.Interp.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	dst := make([]byte, len(raw))
	for cut := 0; cut < len(payload); cut++ {
		require.ErrorIs(t, codecs.Interp.Decode(dst, payload[:cut], p), codecs.ErrCorrupt, "cut at %d", cut)
	}
	q := p
	q.Bound = 2e-3
	require.ErrorIs(t, codecs.Interp.Decode(dst, payload, q), codecs.ErrCorrupt)
	q = p
	q.Shape = []int{600}
	require.ErrorIs(t, codecs.Interp.Decode(dst, payload, q), codecs.ErrCorrupt)
	q = p
	q.DType = codecs.Float64
	require.ErrorIs(t, codecs.Interp.Decode(make([]byte, 2*len(raw)), payload, q), codecs.ErrCorrupt)
}

func TestInterpDifferential(t *testing.T) {
	seed := uint64(20261204)
	rng := rand.New(rand.NewPCG(seed, 1))
	for iter := range 200 {
		nd := 1 + rng.IntN(4)
		shape := make([]int, nd)
		for k := range shape {
			shape[k] = 1 + rng.IntN(24)
		}
		vals := smoothField(shape)
		scale := math.Pow(10, float64(rng.IntN(20)-10))
		for i := range vals {
			vals[i] = vals[i]*scale + rng.NormFloat64()*scale*float64(rng.IntN(3))*0.1
			if rng.IntN(50) == 0 {
				vals[i] = math.NaN()
			}
		}
		dt := codecs.Float32
		if rng.IntN(2) == 1 {
			dt = codecs.Float64
		}
		bound := scale * math.Pow(10, -float64(rng.IntN(8)))
		p := codecs.Params{DType: dt, Shape: shape, Bound: bound, HasFill: rng.IntN(2) == 1, Fill: vals[0]}
		t.Run(fmt.Sprint(iter), func(t *testing.T) {
			t.Logf("seed %d iteration %d: %s %v bound %g", seed, iter, dt, shape, bound)
			roundTripCodec(t, codecs.Interp, encodeFloats(dt, vals), p)
		})
	}
}

// TestInterpGolden pins the stream bytes of a small chunk; see
// TestLorenzoGolden for what a zstd update means for it.
func TestInterpGolden(t *testing.T) {
	raw, p := goldenInput()
	stream, err := codecs.Encode(nil, codecs.Interp, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
	require.NoError(t, err)
	h, _, err := codecs.ParseHeader(stream)
	require.NoError(t, err)
	require.Equal(t, codecs.IDInterp, h.Codec, "the golden chunk must use the interp payload")

	path := filepath.Join("testdata", "interp_golden.hex")
	if *updateGolden {
		require.NoError(t, os.WriteFile(path, []byte(hex.EncodeToString(stream)+"\n"), 0o644))
	}
	text, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestInterpGolden -update to create it")
	golden, err := hex.DecodeString(strings.TrimSpace(string(text)))
	require.NoError(t, err)

	got := make([]byte, len(raw))
	_, err = codecs.Decode(got, golden)
	require.NoError(t, err)
	codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)
	require.Equal(t, hex.EncodeToString(golden), hex.EncodeToString(stream))
}

func FuzzInterpDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(13, 14))
	for sel := range byte(4 * len(fuzzShapes)) {
		p := fuzzParams(sel)
		vals := smoothField(p.Shape)
		for i := range vals {
			switch rng.IntN(8) {
			case 0:
				vals[i] = math.NaN()
			case 1:
				vals[i] = -9
			case 2:
				vals[i] = rng.NormFloat64() * 100
			}
		}
		payload, err := codecs.Interp.AppendEncode(nil, encodeFloats(p.DType, vals), p)
		require.NoError(f, err)
		f.Add(payload, sel)
		f.Add(payload[:len(payload)/2], sel)
		flipped := append([]byte(nil), payload...)
		flipped[len(flipped)*2/3] ^= 0x20
		f.Add(flipped, sel)
	}
	f.Fuzz(func(t *testing.T, payload []byte, sel byte) {
		p := fuzzParams(sel)
		dst := make([]byte, p.Count()*p.DType.Size())
		if err := codecs.Interp.Decode(dst, payload, p); err != nil {
			require.ErrorIs(t, err, codecs.ErrCorrupt)
		}
	})
}

func FuzzInterpRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint8(3), uint8(2), uint8(0))
	f.Add([]byte{0xff, 0x7f, 0x80, 0, 0, 0, 1, 2, 3, 4, 5}, uint8(4), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, rows, boundExp, flags uint8) {
		dt := codecs.Float32
		if flags&1 != 0 {
			dt = codecs.Float64
		}
		n := len(data) / dt.Size()
		if n == 0 {
			return
		}
		r := 1 + int(rows)%n
		for n%r != 0 {
			r--
		}
		raw := data[:n*dt.Size()]
		p := codecs.Params{DType: dt, Shape: []int{r, n / r}, Bound: math.Pow(2, -float64(boundExp%64)), HasFill: flags&2 != 0}
		roundTripCodec(t, codecs.Interp, raw, p)
	})
}
