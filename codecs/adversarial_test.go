package codecs_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/codecs/codectest"
)

// adversarialChunk turns fuzz bytes into a chunk: the values are the bytes
// themselves read as f32 or f64, so every bit pattern (subnormals, NaN
// payloads, values near the dtype's maximum) shows up. sel picks the dtype,
// the shape, the fill value and the bound.
func adversarialChunk(data []byte, sel uint16) (raw []byte, p codecs.Params, ok bool) {
	dt := codecs.Float32
	if sel&1 != 0 {
		dt = codecs.Float64
	}
	n := len(data) / dt.Size()
	if n == 0 {
		return nil, p, false
	}
	raw = data[:n*dt.Size()]
	shape := []int{n}
	switch (sel >> 1) % 3 {
	case 1:
		if r := 1 + int(sel>>3)%n; n%r == 0 {
			shape = []int{r, n / r}
		}
	case 2:
		if n%4 == 0 && n >= 8 {
			shape = []int{2, 2, n / 4}
		}
	}
	p = codecs.Params{DType: dt, Shape: shape, Bound: math.Ldexp(1, int(sel>>5%80)-60)}
	if sel&(1<<13) != 0 {
		p.HasFill = true
		p.Fill = float64(math.Float32frombits(binary.LittleEndian.Uint32(append(data[:0:0], data[:4]...))))
		if math.IsNaN(p.Fill) || math.IsInf(p.Fill, 0) {
			p.Fill = -9
		}
	}
	return raw, p, true
}

var adversarialCodecs = []codecs.Codec{codecs.Lossless, codecs.Lorenzo, codecs.Interp, codecs.Auto}

// FuzzEncodeAnyValues encodes arbitrary value bits with every codec, with
// the abs, pwrel and temporal residual transforms, and checks every decoded
// value against its original in float64.
func FuzzEncodeAnyValues(f *testing.F) {
	f.Add(encodeFloats(codecs.Float32, []float64{1, 2, 3, 4, 5, 6, 7, 8}), uint16(0))
	f.Add(encodeFloats(codecs.Float64, []float64{3e38, -3e38, 1e-45, math.NaN(), 0, math.Copysign(0, -1), math.Inf(1), 5}), uint16(1|2<<1|40<<5))
	f.Add(encodeFloats(codecs.Float32, []float64{math.MaxFloat32, -math.MaxFloat32, math.MaxFloat32, 1, 2, 3, 4, 5}), uint16(2<<1|79<<5))
	f.Add(encodeFloats(codecs.Float64, []float64{math.MaxFloat64, -math.MaxFloat64, 1e300, -1e300, 1, 2, 3, 4}), uint16(1|2<<1|79<<5))
	f.Add(encodeFloats(codecs.Float32, []float64{1e-40, 2e-40, 3e-40, 4e-40, 5e-40, 6e-40, 7e-40, 8e-40}), uint16(1<<13|2<<5))
	f.Fuzz(func(t *testing.T, data []byte, sel uint16) {
		raw, p, ok := adversarialChunk(data, sel)
		if !ok {
			return
		}
		got := make([]byte, len(raw))
		for _, c := range adversarialCodecs {
			stream, err := codecs.Encode(nil, c, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
			require.NoError(t, err, "%s abs", c.Name())
			_, err = codecs.Decode(got, stream)
			require.NoError(t, err, "%s abs", c.Name())
			codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)

			if rel := math.Min(p.Bound, 0.5); rel > 0 {
				stream, err = codecs.Encode(nil, c, codecs.Bound{Mode: codecs.ModePWRel, Value: rel}, withBound(p, rel), raw)
				require.NoError(t, err, "%s pwrel", c.Name())
				_, err = codecs.Decode(got, stream)
				require.NoError(t, err, "%s pwrel", c.Name())
				requireWithinRelative(t, p, raw, got, rel)
			}

			// The reference is the chunk reversed, so residuals are large.
			ref := reverseValues(raw, p.DType.Size())
			recon := make([]byte, len(raw))
			stream, err = codecs.EncodeDelta(nil, c, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw, ref, recon)
			require.NoError(t, err, "%s delta", c.Name())
			_, err = codecs.DecodeDelta(got, stream, ref)
			require.NoError(t, err, "%s delta", c.Name())
			codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)
			require.Equal(t, recon, got, "%s delta: reconstruction differs from the decoded values", c.Name())
		}
	})
}

func withBound(p codecs.Params, b float64) codecs.Params {
	p.Bound = b
	return p
}

func reverseValues(raw []byte, size int) []byte {
	out := make([]byte, len(raw))
	n := len(raw) / size
	for i := range n {
		copy(out[(n-1-i)*size:], raw[i*size:(i+1)*size])
	}
	return out
}

// requireWithinRelative checks |x - x'| <= rel*|x| for every finite,
// non-fill value, and bit equality for the others and for zeros.
func requireWithinRelative(t *testing.T, p codecs.Params, raw, got []byte, rel float64) {
	t.Helper()
	size := p.DType.Size()
	for i := 0; i < len(raw); i += size {
		var x, y float64
		var xb, yb uint64
		isFill := false
		if p.DType == codecs.Float32 {
			xb, yb = uint64(binary.LittleEndian.Uint32(raw[i:])), uint64(binary.LittleEndian.Uint32(got[i:]))
			x, y = float64(math.Float32frombits(uint32(xb))), float64(math.Float32frombits(uint32(yb)))
			isFill = p.HasFill && float32(x) == float32(p.Fill)
		} else {
			xb, yb = binary.LittleEndian.Uint64(raw[i:]), binary.LittleEndian.Uint64(got[i:])
			x, y = math.Float64frombits(xb), math.Float64frombits(yb)
			isFill = p.HasFill && x == p.Fill
		}
		if isFill || x == 0 || x-x != 0 {
			require.Equal(t, xb, yb, "value %d: %v must come back bit-exact, got %v", i/size, x, y)
			continue
		}
		require.LessOrEqual(t, math.Abs(x-y), rel*math.Abs(x), "value %d: got %v, expected %v within %v relative", i/size, y, x, rel)
	}
}

// FuzzDecodeDeltaCorrupt decodes mutated temporal residual streams,
// re-checksummed so the fuzzer reaches the payload parsers of every codec.
// A malformed stream must return an error wrapping ErrCorrupt.
func FuzzDecodeDeltaCorrupt(f *testing.F) {
	for sel := range uint8(8) {
		stream, _, _ := deltaSeed(sel)
		hlen := codecs.HeaderLen(2)
		f.Add(stream[hlen:], sel, uint16(0), byte(0))
		f.Add(stream[hlen:], sel, uint16(17), byte(0x40))
	}
	f.Fuzz(func(t *testing.T, payload []byte, sel uint8, at uint16, xor byte) {
		head, ref, n := deltaSeed(sel)
		hlen := codecs.HeaderLen(2)
		body := append([]byte(nil), payload...)
		if len(body) > 0 {
			body[int(at)%len(body)] ^= xor
		}
		stream := append(append([]byte(nil), head[:hlen]...), body...)
		binary.LittleEndian.PutUint32(stream[hlen-8:], uint32(len(body)))
		binary.LittleEndian.PutUint32(stream[hlen-4:], crc32c(stream[:hlen-4], body))
		got := make([]byte, n)
		if _, err := codecs.DecodeDelta(got, stream, ref); err != nil {
			require.ErrorIs(t, err, codecs.ErrCorrupt)
		}
	})
}

// deltaSeed returns a temporal residual stream of a 12x10 chunk, its
// reference and the chunk size in bytes. sel picks the codec and dtype.
func deltaSeed(sel uint8) (stream, ref []byte, n int) {
	dt := codecs.Float32
	if sel&1 != 0 {
		dt = codecs.Float64
	}
	c := []codecs.Codec{codecs.Lorenzo, codecs.Interp, codecs.Auto, codecs.Lorenzo}[sel>>1%4]
	shape := []int{12, 10}
	prev := smoothField(shape)
	cur := make([]float64, len(prev))
	for i := range cur {
		cur[i] = prev[i] + 0.001*float64(i%5)
	}
	cur[7] = math.NaN()
	p := codecs.Params{DType: dt, Shape: shape, Bound: 1e-4, HasFill: sel>>1%4 == 3, Fill: -9}
	ref = encodeFloats(dt, prev)
	raw := encodeFloats(dt, cur)
	recon := make([]byte, len(raw))
	stream, err := codecs.EncodeDelta(nil, c, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw, ref, recon)
	if err != nil {
		panic(err)
	}
	if stream[10] != byte(codecs.TransformDelta) {
		panic("seed stream is not a temporal residual")
	}
	return stream, ref, len(raw)
}
