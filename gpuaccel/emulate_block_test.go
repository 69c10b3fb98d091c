package gpuaccel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// testBounds are the relative bounds, as fractions of a field's value range,
// at which the differential tests compare the GPU and CPU paths.
var testBounds = []float64{1e-2, 1e-4, 1e-6}

// fieldParams returns the codec parameters for the whole field f at the
// relative bound rel.
func fieldParams(f realdata.File, rel float64) codecs.Params {
	p := codecs.Params{DType: codecs.Float32, Shape: f.Shape, Bound: rel * (f.Max - f.Min)}
	if f.DType == "float64" {
		p.DType = codecs.Float64
	}
	if f.Fill != nil {
		p.HasFill, p.Fill = true, *f.Fill
	}
	return p
}

// splitChunks cuts a field into chunks of uneven sizes (so that most end in
// a partial block) for one batched launch.
func splitChunks(raw []byte, p codecs.Params) []Chunk {
	size := p.DType.Size()
	n := len(raw) / size
	var out []Chunk
	lens := []int{1, 31, 33, 1000, 4093, 65536 + 7}
	for off, i := 0, 0; off < n; i++ {
		l := min(lens[i%len(lens)], n-off)
		cp := p
		cp.Shape = []int{l}
		out = append(out, Chunk{Src: raw[off*size : (off+l)*size], Params: cp})
		off += l
	}
	return out
}

// checkDifferential encodes chunks with e and with the CPU codec and compares
// the payloads byte for byte. Then it decodes the CPU payloads with e and
// compares the values bit for bit with the CPU decode.
func checkDifferential(t *testing.T, e *engine, chunks []Chunk) {
	t.Helper()
	payloads, _, err := e.encode(chunks)
	require.NoError(t, err)
	require.Len(t, payloads, len(chunks))
	items := make([]Payload, len(chunks))
	want := make([][]byte, len(chunks))
	for i, c := range chunks {
		cpu, err := codecs.Block.AppendEncode(nil, c.Src, c.Params)
		require.NoError(t, err)
		if !bytes.Equal(cpu, payloads[i]) {
			at := firstDiff(cpu, payloads[i])
			t.Fatalf("chunk %d (%d values): GPU payload differs from the CPU payload at byte %d of %d/%d", i, c.Params.Count(), at, len(payloads[i]), len(cpu))
		}
		want[i] = make([]byte, len(c.Src))
		require.NoError(t, codecs.Block.Decode(want[i], cpu, c.Params))
		items[i] = Payload{Data: cpu, Params: c.Params, Dst: make([]byte, len(c.Src))}
	}
	_, err = e.decode(items)
	require.NoError(t, err)
	for i, it := range items {
		if !bytes.Equal(want[i], it.Dst) {
			t.Fatalf("chunk %d: GPU decode differs from the CPU decode at byte %d", i, firstDiff(want[i], it.Dst))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestEmulatedRealFields runs the kernels on the CPU over every real field,
// whole and split into a batch of uneven chunks, at several bounds.
func TestEmulatedRealFields(t *testing.T) {
	e := newEngine(emulatedBackend(t))
	defer e.close()
	m := realdata.ForTest(t)
	fields := m.Fields()
	require.NotEmpty(t, fields)
	for _, f := range fields {
		raw, err := m.Read(f)
		require.NoError(t, err)
		for _, rel := range testBounds {
			p := fieldParams(f, rel)
			t.Run(fmt.Sprintf("%s/%g", f.Name(), rel), func(t *testing.T) {
				checkDifferential(t, e, []Chunk{{Src: raw, Params: p}})
				checkDifferential(t, e, splitChunks(raw, p))
			})
		}
	}
}

// TestEmulatedEdgeValues covers the exception paths: NaN with payloads,
// infinities, -0 against a fill of +0, values past the quantization range,
// subnormals and blocks made only of fill.
func TestEmulatedEdgeValues(t *testing.T) {
	e := newEngine(emulatedBackend(t))
	defer e.close()
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1e30, -1e30,
		5e-324, math.SmallestNonzeroFloat32, 1.5, 2.5, -2.5, 3.4e38, 0.1}
	for _, dtype := range []codecs.DType{codecs.Float32, codecs.Float64} {
		for _, hasFill := range []bool{false, true} {
			vals := make([]float64, 0, 32*40+5)
			for i := range 32*40 + 5 {
				switch {
				case i/32 == 3 || i/32 == 7:
					vals = append(vals, 0) // blocks of fill (+0) only
				case i%7 == 0:
					vals = append(vals, specials[(i/7)%len(specials)])
				default:
					vals = append(vals, math.Sin(float64(i)*0.01)*100)
				}
			}
			raw := encodeValues(vals, dtype)
			if dtype == codecs.Float32 {
				binary.LittleEndian.PutUint32(raw[4*8:], 0x7fc01234) // NaN with a payload
			} else {
				binary.LittleEndian.PutUint64(raw[8*8:], 0x7ff8000000001234)
			}
			p := codecs.Params{DType: dtype, Shape: []int{len(vals)}, Bound: 1e-3, HasFill: hasFill}
			t.Run(fmt.Sprintf("%s/fill=%v", dtype, hasFill), func(t *testing.T) {
				checkDifferential(t, e, []Chunk{{Src: raw, Params: p}})
				checkDifferential(t, e, splitChunks(raw, p))
			})
		}
	}
}

func encodeValues(vals []float64, dtype codecs.DType) []byte {
	out := make([]byte, len(vals)*dtype.Size())
	for i, v := range vals {
		if dtype == codecs.Float32 {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(v)))
		} else {
			binary.LittleEndian.PutUint64(out[8*i:], math.Float64bits(v))
		}
	}
	return out
}

// TestEmulatedCorruptPayloads checks that every single-byte change of a
// payload either decodes or returns ErrCorrupt on the GPU path exactly
// when the CPU codec does.
func TestEmulatedCorruptPayloads(t *testing.T) {
	e := newEngine(emulatedBackend(t))
	defer e.close()
	vals := make([]float64, 200)
	for i := range vals {
		vals[i] = math.Sin(float64(i)*0.3) * 10
	}
	vals[5], vals[70] = math.NaN(), -9999
	raw := encodeValues(vals, codecs.Float32)
	p := codecs.Params{DType: codecs.Float32, Shape: []int{len(vals)}, Bound: 1e-2, HasFill: true, Fill: -9999}
	payload, err := codecs.Block.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	for i := range payload {
		for _, flip := range []byte{0x01, 0x40, 0xff} {
			bad := bytes.Clone(payload)
			bad[i] ^= flip
			cpuDst := make([]byte, len(raw))
			cpuErr := codecs.Block.Decode(cpuDst, bad, p)
			gpuDst := make([]byte, len(raw))
			_, gpuErr := e.decode([]Payload{{Data: bad, Params: p, Dst: gpuDst}})
			if cpuErr != nil {
				require.Truef(t, errors.Is(gpuErr, codecs.ErrCorrupt), "byte %d ^ %#x: CPU error %v, GPU error %v", i, flip, cpuErr, gpuErr)
				continue
			}
			require.NoErrorf(t, gpuErr, "byte %d ^ %#x", i, flip)
			require.Truef(t, bytes.Equal(cpuDst, gpuDst), "byte %d ^ %#x: decodes differ", i, flip)
		}
	}
	_, err = e.decode([]Payload{{Data: payload[:40], Params: p, Dst: make([]byte, len(raw))}})
	require.ErrorIs(t, err, codecs.ErrCorrupt)
	require.True(t, strings.Contains(err.Error(), "shorter than its 48-byte header"), err.Error())
}

// FuzzEmulatedDecode decodes arbitrary payloads on the emulated GPU path and
// checks that it rejects exactly what the CPU codec rejects, with
// ErrCorrupt, and otherwise decodes the same bits.
func FuzzEmulatedDecode(f *testing.F) {
	vals := make([]float64, 100)
	for i := range vals {
		vals[i] = math.Cos(float64(i)*0.2) * 5
	}
	vals[3], vals[50] = math.Inf(1), -1
	raw := encodeValues(vals, codecs.Float32)
	for _, eb := range []float64{1e-1, 1e-4} {
		for _, hasFill := range []bool{false, true} {
			p := codecs.Params{DType: codecs.Float32, Shape: []int{len(vals)}, Bound: eb, HasFill: hasFill, Fill: -1}
			payload, err := codecs.Block.AppendEncode(nil, raw, p)
			require.NoError(f, err)
			f.Add(payload, eb, hasFill)
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte, eb float64, hasFill bool) {
		e := newEngine(emulatedBackend(t))
		defer e.close()
		p := codecs.Params{DType: codecs.Float32, Shape: []int{len(vals)}, Bound: eb, HasFill: hasFill, Fill: -1}
		cpuDst := make([]byte, len(raw))
		cpuErr := codecs.Block.Decode(cpuDst, payload, p)
		gpuDst := make([]byte, len(raw))
		_, gpuErr := e.decode([]Payload{{Data: payload, Params: p, Dst: gpuDst}})
		if cpuErr != nil {
			require.Truef(t, errors.Is(gpuErr, codecs.ErrCorrupt), "CPU error %v, GPU error %v", cpuErr, gpuErr)
			return
		}
		require.NoError(t, gpuErr)
		require.True(t, bytes.Equal(cpuDst, gpuDst), "decodes differ")
	})
}
