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

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/codecs/codectest"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// roundTripBlock encodes raw with the block codec directly and through the
// stream layer, checks both decoded chunks value by value, and returns the
// block payload and the stream.
func roundTripBlock(t testing.TB, raw []byte, p codecs.Params) (payload, stream []byte) {
	t.Helper()
	payload, err := codecs.Block.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	got := make([]byte, len(raw))
	require.NoError(t, codecs.Block.Decode(got, payload, p))
	codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)

	stream, err = codecs.Encode(nil, codecs.Block, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
	require.NoError(t, err)
	clear(got)
	h, err := codecs.Decode(got, stream)
	require.NoError(t, err)
	require.Contains(t, []codecs.ID{codecs.IDBlock, codecs.IDLossless}, h.Codec)
	codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)
	return payload, stream
}

func TestBlockRealFields(t *testing.T) {
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
			hasFill, fill := f.Fill != nil, 0.0
			if hasFill {
				fill = *f.Fill
			}

			for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
				raw := raw32
				if dt != srcType {
					if srcType != codecs.Float32 {
						continue // only float32 fields are widened
					}
					raw = f32ToF64(raw32)
				}
				valRange := valueRange(dt, raw, hasFill, fill)
				require.Greater(t, valRange, 0.0)

				rows := chunkRows(f.Shape, dt.Size())
				sliceBytes := len(raw) / f.Shape[0]
				for _, rel := range rels {
					bound := rel * valRange
					var streamBytes int
					for r0 := 0; r0 < f.Shape[0]; r0 += rows {
						r1 := min(r0+rows, f.Shape[0])
						shape := append([]int{r1 - r0}, f.Shape[1:]...)
						p := codecs.Params{DType: dt, Shape: shape, Bound: bound, HasFill: hasFill, Fill: fill}
						_, stream := roundTripBlock(t, raw[r0*sliceBytes:r1*sliceBytes], p)
						streamBytes += len(stream)
					}
					t.Logf("%s rel=%g: ratio %.2f", dt, rel, float64(len(raw))/float64(streamBytes))
				}
			}
		})
	}
}

func TestBlockSpecialValues(t *testing.T) {
	const fill = -999.0
	nanPayload := math.Float64frombits(0x7ff8_0000_dead_beef)
	shape := []int{9, 11, 13}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		for _, layout := range []string{"scattered", "runs"} {
			t.Run(fmt.Sprintf("%s_%s", dt, layout), func(t *testing.T) {
				vals := smoothField(shape)
				specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), fill, nanPayload, math.Copysign(0, -1)}
				if layout == "scattered" {
					rng := rand.New(rand.NewPCG(7, 8))
					for i := range vals {
						if rng.IntN(10) == 0 {
							vals[i] = specials[rng.IntN(len(specials))]
						}
					}
				} else {
					for i := range vals {
						if (i/40)%3 == 1 {
							vals[i] = specials[(i/120)%len(specials)]
						}
					}
				}
				raw := encodeFloats(dt, vals)
				if dt == codecs.Float32 {
					// A float32 NaN payload that encodeFloats would not keep.
					binary.LittleEndian.PutUint32(raw[4*5:], 0x7fa0_0001)
				}
				p := codecs.Params{DType: dt, Shape: shape, Bound: 1e-3, HasFill: true, Fill: fill}
				payload, _ := roundTripBlock(t, raw, p)
				require.Less(t, len(payload), len(raw), "specials must not defeat compression")
			})
		}
	}
}

func TestBlockNegativeZeroAgainstFill(t *testing.T) {
	vals := []float64{1, math.Copysign(0, -1), 0, 2, math.Copysign(0, -1)}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		raw := encodeFloats(dt, vals)
		p := codecs.Params{DType: dt, Shape: []int{len(vals)}, Bound: 0.5, HasFill: true, Fill: 0}
		roundTripBlock(t, raw, p)
	}
}

func TestBlockConstant(t *testing.T) {
	for _, v := range []float64{0, 273.15, -1e20} {
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			vals := make([]float64, 20*30*40)
			for i := range vals {
				vals[i] = v
			}
			raw := encodeFloats(dt, vals)
			// Values past 2^30 quanta are exceptions, so the bound scales
			// with the value.
			p := codecs.Params{DType: dt, Shape: []int{20, 30, 40}, Bound: 1e-4 * max(1, math.Abs(v))}
			payload, _ := roundTripBlock(t, raw, p)
			// 750 blocks: one descriptor each and at most 4 extension bytes.
			require.LessOrEqual(t, len(payload), 48+750*5+200, "%s constant %v", dt, v)
		}
	}
}

func TestBlockAllZeroBlocksCostOneByte(t *testing.T) {
	raw := make([]byte, 4*3200)
	p := codecs.Params{DType: codecs.Float32, Shape: []int{3200}, Bound: 1e-3}
	payload, err := codecs.Block.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	require.Equal(t, 48+100+25+3, len(payload), "header, 100 descriptors, 25 kind bytes, padding")
	roundTripBlock(t, raw, p)
}

func TestBlockAllNaN(t *testing.T) {
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		vals := make([]float64, 1000)
		for i := range vals {
			vals[i] = math.NaN()
		}
		roundTripBlock(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{10, 100}, Bound: 0.1})
	}
}

func TestBlockAllFill(t *testing.T) {
	vals := make([]float64, 1000)
	for i := range vals {
		vals[i] = 9.96921e36
	}
	raw := encodeFloats(codecs.Float32, vals)
	p := codecs.Params{DType: codecs.Float32, Shape: []int{1000}, Bound: 0.1, HasFill: true, Fill: 9.96921e36}
	payload, _ := roundTripBlock(t, raw, p)
	require.Less(t, len(payload), 100, "fill-only blocks need no mask records")
}

func TestBlockFillOverHalf(t *testing.T) {
	const fill = 1e35
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		vals := smoothField([]int{40, 100})
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range vals {
			// Land in runs, as in an ocean field, plus scattered fill.
			if (i/100)%3 != 0 || rng.IntN(5) == 0 {
				vals[i] = fill
			}
		}
		raw := encodeFloats(dt, vals)
		p := codecs.Params{DType: dt, Shape: []int{40, 100}, Bound: 1e-2, HasFill: true, Fill: fill}
		payload, _ := roundTripBlock(t, raw, p)
		require.Less(t, len(payload), len(raw)/4, "%s: fill must cost no verbatim bytes", dt)
	}
}

func TestBlockNearFloat32Max(t *testing.T) {
	vals := []float64{math.MaxFloat32, -math.MaxFloat32, 3.4e38, -3.4e38, 3.3e38, 1, 0, math.MaxFloat32 / 2}
	for _, bound := range []float64{1e-3, 1e30, 1e38} {
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			roundTripBlock(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{len(vals)}, Bound: bound})
		}
	}
}

func TestBlockSubnormals(t *testing.T) {
	var vals []float64
	for i := range 100 {
		vals = append(vals, float64(math.Float32frombits(uint32(i*7+1))), -float64(math.Float32frombits(uint32(i*13+1))))
	}
	for _, bound := range []float64{1e-45, 1e-44, 1e-40, 1e-3} {
		roundTripBlock(t, encodeFloats(codecs.Float32, vals), codecs.Params{DType: codecs.Float32, Shape: []int{len(vals)}, Bound: bound})
	}
	vals64 := []float64{5e-324, -5e-324, 1e-310, 2.2e-308, 0}
	for _, bound := range []float64{5e-324, 1e-320, 1e-300} {
		roundTripBlock(t, encodeFloats(codecs.Float64, vals64), codecs.Params{DType: codecs.Float64, Shape: []int{len(vals64)}, Bound: bound})
	}
}

func TestBlockRampSmallBound(t *testing.T) {
	vals := make([]float64, 100000)
	for i := range vals {
		vals[i] = float64(i + 1)
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		raw := encodeFloats(dt, vals)
		for _, bound := range []float64{1e-6, 1e-3, 0.5} {
			p := codecs.Params{DType: dt, Shape: []int{100000}, Bound: bound}
			payload, _ := roundTripBlock(t, raw, p)
			t.Logf("%s bound %g: ratio %.2f", dt, bound, float64(len(raw))/float64(len(payload)))
		}
	}
}

func TestBlockNoiseFallsBackToLossless(t *testing.T) {
	// Random bit patterns span every exponent, so most values are
	// exceptions and the payload is larger than the raw values.
	rng := rand.New(rand.NewPCG(9, 10))
	raw := make([]byte, 4*64*64)
	for i := 0; i < len(raw); i += 4 {
		binary.LittleEndian.PutUint32(raw[i:], rng.Uint32())
	}
	p := codecs.Params{DType: codecs.Float32, Shape: []int{64, 64}, Bound: 1e-30}
	_, stream := roundTripBlock(t, raw, p)
	h, _, err := codecs.ParseHeader(stream)
	require.NoError(t, err)
	require.Equal(t, codecs.IDLossless, h.Codec)
	require.Less(t, float64(len(stream)), 1.1*float64(len(raw)))
}

func TestBlockUniformNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vals := make([]float64, 4096)
	for i := range vals {
		vals[i] = rng.Float64()
	}
	raw := encodeFloats(codecs.Float32, vals)
	for _, bound := range []float64{1e-2, 1e-4, 1e-7, 1e-9} {
		_, stream := roundTripBlock(t, raw, codecs.Params{DType: codecs.Float32, Shape: []int{4096}, Bound: bound})
		ratio := float64(len(raw)) / float64(len(stream))
		require.Greater(t, ratio, 0.9, "bound %g", bound)
		t.Logf("bound %g: ratio %.2f", bound, ratio)
	}
}

func TestBlockBoundBelowSpacing(t *testing.T) {
	// Around 1000 the float32 spacing is 6.1e-5, so these bounds are below
	// it: every value must come back within bound, which means exactly.
	vals := smoothField([]int{50, 60})
	for i := range vals {
		vals[i] += 1000
	}
	for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
		for _, bound := range []float64{1e-5, 1e-9, 1e-13, 1e-300} {
			roundTripBlock(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{50, 60}, Bound: bound})
		}
	}
}

func TestBlockExtremeBounds(t *testing.T) {
	vals := smoothField([]int{10, 20})
	for _, bound := range []float64{1e300, math.MaxFloat64, 1e-300, 5e-324} {
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			roundTripBlock(t, encodeFloats(dt, vals), codecs.Params{DType: dt, Shape: []int{10, 20}, Bound: bound})
		}
	}
}

func TestBlockShapes(t *testing.T) {
	shapes := [][]int{
		{1}, {1, 1, 1}, {2}, {31}, {32}, {33}, {63}, {64}, {65}, {1000},
		{1, 50}, {50, 1}, {1, 1, 30, 1}, {5, 1, 7, 1, 9}, {2, 2, 2, 2, 2, 2, 2, 3}, {97, 101},
	}
	for _, shape := range shapes {
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			t.Run(fmt.Sprintf("%s_%v", dt, shape), func(t *testing.T) {
				raw := encodeFloats(dt, smoothField(shape))
				p := codecs.Params{DType: dt, Shape: shape, Bound: 1e-3}
				roundTripBlock(t, raw, p)
			})
		}
	}
}

func TestBlockFlatSequence(t *testing.T) {
	// The codec ignores the shape beyond its value count.
	raw := encodeFloats(codecs.Float32, smoothField([]int{12, 35}))
	want, err := codecs.Block.AppendEncode(nil, raw, codecs.Params{DType: codecs.Float32, Shape: []int{420}, Bound: 1e-3})
	require.NoError(t, err)
	for _, shape := range [][]int{{12, 35}, {1, 420, 1}, {2, 3, 70}} {
		got, err := codecs.Block.AppendEncode(nil, raw, codecs.Params{DType: codecs.Float32, Shape: shape, Bound: 1e-3})
		require.NoError(t, err)
		require.Equal(t, want, got, "shape %v", shape)
	}
}

func TestBlockEveryBitWidth(t *testing.T) {
	// Residual steps of 2^k quanta give every bit width from 0 to 32.
	const eb = 0.5
	for k := 0; k <= 30; k++ {
		vals := make([]float64, 96)
		for i := range vals {
			step := float64(int64(1) << k)
			if i%2 == 1 {
				step = -step
			}
			vals[i] = step / 2 * float64(i%3)
		}
		roundTripBlock(t, encodeFloats(codecs.Float64, vals), codecs.Params{DType: codecs.Float64, Shape: []int{96}, Bound: eb})
	}
	// Largest allowed quanta of both signs side by side: width 32.
	big := float64(1<<30 - 1)
	vals := []float64{big, -big, big, -big, 0, big}
	roundTripBlock(t, encodeFloats(codecs.Float64, vals), codecs.Params{DType: codecs.Float64, Shape: []int{6}, Bound: eb})
	payload, err := codecs.Block.AppendEncode(nil, encodeFloats(codecs.Float64, vals), codecs.Params{DType: codecs.Float64, Shape: []int{6}, Bound: eb})
	require.NoError(t, err)
	require.Equal(t, byte(32), payload[48]&63, "descriptor bit width")
}

func TestBlockRejectsUnsupported(t *testing.T) {
	raw := make([]byte, 16)
	for _, p := range []codecs.Params{
		{DType: codecs.Int32, Shape: []int{4}, Bound: 1},
		{DType: codecs.Float32, Shape: []int{4}, Bound: 0},
		{DType: codecs.Float32, Shape: []int{4}, Bound: math.Inf(1)},
		{DType: codecs.Float32, Shape: []int{4}, Bound: math.NaN()},
	} {
		_, err := codecs.Block.AppendEncode(nil, raw, p)
		require.ErrorIs(t, err, codecs.ErrUnsupported, "params %+v", p)
	}
}

func TestBlockDecodeRejectsCorrupt(t *testing.T) {
	vals := smoothField([]int{20, 30})
	vals[7], vals[100] = math.NaN(), -9
	raw := encodeFloats(codecs.Float32, vals)
	p := codecs.Params{DType: codecs.Float32, Shape: []int{20, 30}, Bound: 1e-3, HasFill: true, Fill: -9}
	payload, err := codecs.Block.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	dst := make([]byte, len(raw))

	t.Run("truncated", func(t *testing.T) {
		for cut := 0; cut < len(payload); cut++ {
			require.ErrorIs(t, codecs.Block.Decode(dst, payload[:cut], p), codecs.ErrCorrupt, "cut at %d", cut)
		}
	})
	t.Run("extended", func(t *testing.T) {
		require.ErrorIs(t, codecs.Block.Decode(dst, append(append([]byte(nil), payload...), 0), p), codecs.ErrCorrupt)
	})
	t.Run("other_bound", func(t *testing.T) {
		q := p
		q.Bound = 2e-3
		require.ErrorIs(t, codecs.Block.Decode(dst, payload, q), codecs.ErrCorrupt)
	})
	t.Run("other_count", func(t *testing.T) {
		q := p
		q.Shape = []int{599}
		require.ErrorIs(t, codecs.Block.Decode(dst[:599*4], payload, q), codecs.ErrCorrupt)
	})
	t.Run("no_fill", func(t *testing.T) {
		q := p
		q.HasFill = false
		require.ErrorIs(t, codecs.Block.Decode(dst, payload, q), codecs.ErrCorrupt)
	})
	t.Run("other_dtype", func(t *testing.T) {
		q := p
		q.DType = codecs.Float64
		require.ErrorIs(t, codecs.Block.Decode(make([]byte, 2*len(raw)), payload, q), codecs.ErrCorrupt)
	})
	t.Run("header_fields", func(t *testing.T) {
		for _, off := range []int{0, 1, 2, 3, 7, 16, 24, 32, 40, 48} {
			bad := append([]byte(nil), payload...)
			bad[off] ^= 0x41
			require.ErrorIs(t, codecs.Block.Decode(dst, bad, p), codecs.ErrCorrupt, "byte %d", off)
		}
	})
	t.Run("wrong_destination", func(t *testing.T) {
		require.Error(t, codecs.Block.Decode(dst[:len(dst)-4], payload, p))
	})
	t.Run("stream_bit_flips", func(t *testing.T) {
		stream, err := codecs.Encode(nil, codecs.Block, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
		require.NoError(t, err)
		for i := 0; i < len(stream); i += 3 {
			bad := append([]byte(nil), stream...)
			bad[i] ^= 0x04
			_, err := codecs.Decode(dst, bad)
			require.ErrorIs(t, err, codecs.ErrCorrupt, "flip in byte %d", i)
		}
	})
}

// blockGoldenInput is 100 float32 values: a ramp plus sine with a NaN, two
// fill values, an infinity and one value far from the rest, so the golden
// payload has fill, verbatim and mixed blocks and a partial last block.
func blockGoldenInput() ([]byte, codecs.Params) {
	vals := make([]float64, 100)
	for i := range vals {
		vals[i] = 0.25*float64(i) + math.Sin(float64(i)*0.2)
	}
	vals[3] = math.NaN()
	vals[40], vals[41] = -1e30, -1e30
	vals[70] = math.Inf(-1)
	vals[90] = 1e9
	p := codecs.Params{DType: codecs.Float32, Shape: []int{4, 25}, Bound: 1e-3, HasFill: true, Fill: -1e30}
	return encodeFloats(codecs.Float32, vals), p
}

// TestBlockGolden pins the stream bytes of a small chunk, so a change of the
// payload format shows up as a diff. Rewrite with -update.
func TestBlockGolden(t *testing.T) {
	raw, p := blockGoldenInput()
	stream, err := codecs.Encode(nil, codecs.Block, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
	require.NoError(t, err)
	h, _, err := codecs.ParseHeader(stream)
	require.NoError(t, err)
	require.Equal(t, codecs.IDBlock, h.Codec, "the golden chunk must use the block payload")

	path := filepath.Join("testdata", "block_golden.hex")
	if *updateGolden {
		require.NoError(t, os.WriteFile(path, []byte(hex.EncodeToString(stream)+"\n"), 0o644))
	}
	text, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestBlockGolden -update to create it")
	golden, err := hex.DecodeString(strings.TrimSpace(string(text)))
	require.NoError(t, err)

	got := make([]byte, len(raw))
	_, err = codecs.Decode(got, golden)
	require.NoError(t, err)
	codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)
	require.Equal(t, hex.EncodeToString(golden), hex.EncodeToString(stream))
}

func TestBlockGoldenLayout(t *testing.T) {
	// Read the golden payload field by field as the format documents it.
	raw, p := blockGoldenInput()
	payload, err := codecs.Block.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	le := binary.LittleEndian
	require.Equal(t, []byte{1, 1, 32, 0, 0, 0, 0, 0}, payload[:8])
	require.Equal(t, 1e-3, math.Float64frombits(le.Uint64(payload[8:])))
	require.Equal(t, uint64(100), le.Uint64(payload[16:]), "n")
	require.Equal(t, uint64(3), le.Uint64(payload[24:]), "mixed blocks 0, 1 and 2")
	require.Equal(t, uint64(3), le.Uint64(payload[32:]), "verbatim NaN, -Inf, 1e9")
	// 4 descriptors and 1 kind byte end at 53, padded to 56.
	kinds := payload[52]
	require.Equal(t, byte(2|2<<2|2<<4|0<<6), kinds)
	masks := payload[56 : 56+24]
	require.Equal(t, uint32(0), le.Uint32(masks[0:]), "block 0 fill mask")
	require.Equal(t, uint32(1<<3), le.Uint32(masks[4:]), "block 0 verbatim mask")
	require.Equal(t, uint32(1<<8|1<<9), le.Uint32(masks[8:]), "block 1 fill mask")
	require.Equal(t, uint32(0), le.Uint32(masks[12:]), "block 1 verbatim mask")
	require.Equal(t, uint32(1<<6|1<<26), le.Uint32(masks[20:]), "block 2 verbatim mask")
	verb := payload[80 : 80+12]
	require.True(t, math.IsNaN(float64(math.Float32frombits(le.Uint32(verb[0:])))))
	require.True(t, math.IsInf(float64(math.Float32frombits(le.Uint32(verb[4:]))), -1))
	require.Equal(t, float32(1e9), math.Float32frombits(le.Uint32(verb[8:])))
	bodies := 0
	for _, d := range payload[48:52] {
		bodies += 4*int(d&63) + []int{0, 1, 2, 4}[d>>6]
	}
	require.Equal(t, uint64(bodies), le.Uint64(payload[40:]))
	require.Len(t, payload, 92+bodies)
}

// blockFuzzShapes are the chunk shapes FuzzBlockDecode picks from.
var blockFuzzShapes = [][]int{{1}, {17}, {32}, {4, 5}, {3, 4, 5}, {2, 3, 2, 3}, {1, 70, 1}}

// blockFuzzParams derives chunk parameters from one fuzz byte: bit 0 picks
// the dtype, bit 1 the fill value, the rest the shape.
func blockFuzzParams(sel byte) codecs.Params {
	p := codecs.Params{DType: codecs.Float32, Shape: blockFuzzShapes[int(sel>>2)%len(blockFuzzShapes)], Bound: 0.01}
	if sel&1 != 0 {
		p.DType = codecs.Float64
	}
	if sel&2 != 0 {
		p.HasFill, p.Fill = true, -9
	}
	return p
}

func FuzzBlockDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(11, 12))
	for sel := range byte(4 * len(blockFuzzShapes)) {
		p := blockFuzzParams(sel)
		vals := smoothField(p.Shape)
		for i := range vals {
			switch rng.IntN(8) {
			case 0:
				vals[i] = math.NaN()
			case 1:
				vals[i] = -9
			case 2:
				vals[i] = rng.NormFloat64() * 1e4
			}
		}
		payload, err := codecs.Block.AppendEncode(nil, encodeFloats(p.DType, vals), p)
		require.NoError(f, err)
		f.Add(payload, sel)
		f.Add(payload[:len(payload)/2], sel)
		flipped := append([]byte(nil), payload...)
		flipped[len(flipped)*2/3] ^= 0x20
		f.Add(flipped, sel)
	}
	f.Fuzz(func(t *testing.T, payload []byte, sel byte) {
		p := blockFuzzParams(sel)
		dst := make([]byte, p.Count()*p.DType.Size())
		err := codecs.Block.Decode(dst, payload, p)
		if err != nil {
			require.ErrorIs(t, err, codecs.ErrCorrupt)
		}
	})
}

// FuzzBlockRoundTrip draws a shape, values and a bound from a seed and
// checks decode(encode(x)) against the bound value by value.
func FuzzBlockRoundTrip(f *testing.F) {
	for seed := range uint64(40) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 99))
		ndim := 1 + rng.IntN(4)
		shape := make([]int, ndim)
		for i := range shape {
			shape[i] = 1 + rng.IntN(12)
			if rng.IntN(4) == 0 {
				shape[i] = 1
			}
		}
		dt := codecs.Float32
		if rng.IntN(2) == 0 {
			dt = codecs.Float64
		}
		scale := math.Pow(10, float64(rng.IntN(40)-20))
		bound := scale * math.Pow(10, float64(-rng.IntN(10)))
		p := codecs.Params{DType: dt, Shape: shape, Bound: bound}
		if rng.IntN(3) == 0 {
			p.HasFill, p.Fill = true, float64(float32(scale*3.5))
		}
		vals := make([]float64, p.Count())
		walk := 0.0
		for i := range vals {
			walk += rng.NormFloat64() * scale * 0.1
			switch rng.IntN(30) {
			case 0:
				vals[i] = math.NaN()
			case 1:
				vals[i] = p.Fill
			case 2:
				vals[i] = math.Inf(1 - 2*rng.IntN(2))
			case 3:
				vals[i] = rng.NormFloat64() * scale * 1e6
			default:
				vals[i] = walk
			}
		}
		raw := encodeFloats(dt, vals)
		payload, err := codecs.Block.AppendEncode(nil, raw, p)
		require.NoError(t, err)
		got := make([]byte, len(raw))
		require.NoError(t, codecs.Block.Decode(got, payload, p), "seed %d", seed)
		codectest.RequireWithinBound(t, dt, raw, got, p.Bound, p.HasFill, p.Fill)
	})
}

func BenchmarkBlockEncode(b *testing.B) {
	chunks, params, rawBytes := benchmarkChunks(b)
	benchEncode(b, codecs.Block, chunks, params, rawBytes)

	// The ratio that a zstd stage after the block payload would reach,
	// measured and not part of the format.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	require.NoError(b, err)
	zstdBytes := 0
	for i, c := range chunks {
		payload, err := codecs.Block.AppendEncode(nil, c, params[i])
		require.NoError(b, err)
		zstdBytes += len(enc.EncodeAll(payload, nil))
	}
	b.ReportMetric(float64(rawBytes)/float64(zstdBytes), "ratio_with_zstd")
}

func BenchmarkBlockDecode(b *testing.B) {
	chunks, params, rawBytes := benchmarkChunks(b)
	benchDecode(b, codecs.Block, chunks, params, rawBytes)
}
