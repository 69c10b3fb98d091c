package codecs

import (
	"encoding/hex"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update-stream", false, "rewrite testdata/stream_golden.hex")

// goldenInput is a fixed 3x5 float32 chunk with a fill value and a NaN.
func goldenInput() ([]byte, Params) {
	vals := make([]float32, 15)
	for i := range vals {
		vals[i] = float32(i) * 0.25
	}
	vals[3] = -999
	vals[7] = float32(math.NaN())
	raw := make([]byte, 0, 60)
	for _, v := range vals {
		b := math.Float32bits(v)
		raw = append(raw, byte(b), byte(b>>8), byte(b>>16), byte(b>>24))
	}
	return raw, Params{DType: Float32, Shape: []int{3, 5}, HasFill: true, Fill: -999}
}

// TestStreamGolden pins the bytes of a lossless stream, which covers the
// whole header layout. A change here is a format change.
func TestStreamGolden(t *testing.T) {
	raw, p := goldenInput()
	stream, err := Encode(nil, Lossless, Bound{Mode: ModeAbs, Value: 0.5}, p, raw)
	require.NoError(t, err)
	path := filepath.Join("testdata", "stream_golden.hex")
	if *updateGolden {
		require.NoError(t, os.WriteFile(path, []byte(hex.EncodeToString(stream)+"\n"), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, strings.TrimSpace(string(want)), hex.EncodeToString(stream))

	// Spot-check the documented offsets.
	require.Equal(t, "EPSC", string(stream[0:4]))
	require.Equal(t, byte(FormatVersion), stream[4])
	require.Equal(t, byte(IDLossless), stream[5])
	require.Equal(t, byte(Float32), stream[6])
	require.Equal(t, byte(2), stream[7])
	require.Equal(t, byte(ModeAbs), stream[8])
	require.Equal(t, byte(1), stream[9], "fill flag")
	require.Equal(t, HeaderLen(2), 60)

	h, err := Decode(make([]byte, len(raw)), stream)
	require.NoError(t, err)
	require.Equal(t, []int{3, 5}, h.Shape)
	require.Equal(t, -999.0, h.Fill)
}

func TestStreamDetectsEveryBitFlip(t *testing.T) {
	raw, p := goldenInput()
	stream, err := Encode(nil, Lorenzo, Bound{Mode: ModeAbs, Value: 0.01}, Params{DType: p.DType, Shape: p.Shape, Bound: 0.01, HasFill: true, Fill: -999}, raw)
	require.NoError(t, err)
	dst := make([]byte, len(raw))
	for i := 0; i < len(stream)*8; i++ {
		bad := append([]byte(nil), stream...)
		bad[i/8] ^= 1 << (i % 8)
		_, err := Decode(dst, bad)
		require.ErrorIs(t, err, ErrCorrupt, "bit %d", i)
	}
	for n := 0; n < len(stream); n++ {
		_, err := Decode(dst, stream[:n])
		require.ErrorIs(t, err, ErrCorrupt, "truncated to %d bytes", n)
	}
}

func TestEncodeFallsBackToLossless(t *testing.T) {
	// Integers are not supported by lorenzo.
	raw := make([]byte, 4*64)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	stream, err := Encode(nil, Lorenzo, Bound{Mode: ModeAbs, Value: 1}, Params{DType: Int32, Shape: []int{64}, Bound: 1}, raw)
	require.NoError(t, err)
	require.Equal(t, byte(IDLossless), stream[5])
	got := make([]byte, len(raw))
	h, err := Decode(got, stream)
	require.NoError(t, err)
	require.Equal(t, raw, got)
	require.Zero(t, h.AbsBound)
}

func TestEncodeRejectsBadParams(t *testing.T) {
	raw := make([]byte, 16)
	cases := []struct {
		p    Params
		want string
	}{
		{Params{DType: 0, Shape: []int{4}}, "invalid dtype 0"},
		{Params{DType: Float32, Shape: nil}, "allowed are 1 to 8"},
		{Params{DType: Float32, Shape: []int{0}}, "has size 0"},
		{Params{DType: Float32, Shape: []int{5}}, "needs 20 bytes, got 16"},
		{Params{DType: Float32, Shape: []int{4}, Bound: math.NaN()}, "invalid absolute bound NaN"},
		{Params{DType: Float32, Shape: []int{4}, Bound: -1}, "invalid absolute bound -1"},
	}
	for _, c := range cases {
		_, err := Encode(nil, Lorenzo, Bound{}, c.p, raw)
		require.ErrorContains(t, err, c.want)
	}
}

func TestDecodeRejectsWrongDestination(t *testing.T) {
	raw, p := goldenInput()
	stream, err := Encode(nil, Lossless, Bound{}, p, raw)
	require.NoError(t, err)
	_, err = Decode(make([]byte, 10), stream)
	require.ErrorContains(t, err, "destination has 10 bytes")
	require.False(t, errors.Is(err, ErrCorrupt), "a caller error is not corruption")
}

func TestLosslessRoundTripAllDTypes(t *testing.T) {
	for _, dt := range []DType{Float32, Float64, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64} {
		for _, n := range []int{1, 7, 300, 5000} {
			raw := make([]byte, n*dt.Size())
			for i := range raw {
				raw[i] = byte(i*31 + i/7)
			}
			stream, err := Encode(nil, Lossless, Bound{}, Params{DType: dt, Shape: []int{n}}, raw)
			require.NoError(t, err)
			got := make([]byte, len(raw))
			_, err = Decode(got, stream)
			require.NoError(t, err)
			require.Equal(t, raw, got, "%s n=%d", dt, n)
		}
	}
}

// FuzzStreamDecode feeds arbitrary bytes to Decode. It must return an error
// or decode, never panic.
func FuzzStreamDecode(f *testing.F) {
	raw, p := goldenInput()
	for _, c := range []Codec{Lossless, Lorenzo} {
		stream, err := Encode(nil, c, Bound{Mode: ModeAbs, Value: 0.1}, Params{DType: p.DType, Shape: p.Shape, Bound: 0.1, HasFill: true, Fill: -999}, raw)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stream)
		f.Add(stream[:len(stream)/2])
	}
	f.Add([]byte("EPSC"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		h, _, err := ParseHeader(stream)
		if err != nil {
			return
		}
		dst := make([]byte, h.Params().Count()*h.DType.Size())
		_, _ = Decode(dst, stream)
	})
}

// FuzzLosslessDecode feeds arbitrary payloads to the lossless codec,
// bypassing the checksum.
func FuzzLosslessDecode(f *testing.F) {
	raw, p := goldenInput()
	payload, err := Lossless.AppendEncode(nil, raw, p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(payload, uint8(1), uint16(15))
	f.Add(payload[:5], uint8(2), uint16(3))
	f.Fuzz(func(t *testing.T, payload []byte, dt uint8, n uint16) {
		d := DType(dt%10 + 1)
		count := int(n%4096) + 1
		dst := make([]byte, count*d.Size())
		err := Lossless.Decode(dst, payload, Params{DType: d, Shape: []int{count}})
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error does not wrap ErrCorrupt: %v", err)
		}
	})
}
