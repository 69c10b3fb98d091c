package codecs_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/codecs/codectest"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// roundTripCodec encodes raw with c directly and through the stream layer,
// checks both decoded chunks value by value, and returns the payload and
// the stream.
// A selector has no payload of its own, so for one only the stream is
// checked and the payload is the stream's.
func roundTripCodec(t testing.TB, c codecs.Codec, raw []byte, p codecs.Params) (payload, stream []byte) {
	t.Helper()
	got := make([]byte, len(raw))
	_, isSelector := c.(codecs.Selector)
	if !isSelector {
		var err error
		payload, err = c.AppendEncode(nil, raw, p)
		require.NoError(t, err)
		require.NoError(t, c.Decode(got, payload, p))
		codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)
	}

	stream, err := codecs.Encode(nil, c, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
	require.NoError(t, err)
	clear(got)
	h, err := codecs.Decode(got, stream)
	require.NoError(t, err)
	if isSelector {
		payload = stream[len(stream)-h.PayloadLen:]
	} else {
		require.Contains(t, []codecs.ID{c.ID(), codecs.IDLossless}, h.Codec)
	}
	codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)
	return payload, stream
}

// fieldRatio encodes every chunk of about 1 MiB of a real field with c at the
// relative bound rel, checks each value, and returns the compression ratio
// of the payloads.
func fieldRatio(t testing.TB, c codecs.Codec, f realdata.File, raw []byte, dt codecs.DType, rel float64) float64 {
	t.Helper()
	hasFill, fill := f.Fill != nil, 0.0
	if hasFill {
		fill = *f.Fill
	}
	bound := rel * valueRange(dt, raw, hasFill, fill)
	rows := chunkRows(f.Shape, dt.Size())
	sliceBytes := len(raw) / f.Shape[0]
	total := 0
	for r0 := 0; r0 < f.Shape[0]; r0 += rows {
		r1 := min(r0+rows, f.Shape[0])
		shape := append([]int{r1 - r0}, f.Shape[1:]...)
		p := codecs.Params{DType: dt, Shape: shape, Bound: bound, HasFill: hasFill, Fill: fill}
		payload, _ := roundTripCodec(t, c, raw[r0*sliceBytes:r1*sliceBytes], p)
		total += len(payload)
	}
	return float64(len(raw)) / float64(total)
}

func TestInterpRatioTable(t *testing.T) {
	m := realdata.ForTest(t)
	rels := []float64{1e-3, 1e-4}
	var sb strings.Builder
	codecList := []codecs.Codec{codecs.Interp, codecs.Lorenzo, codecs.Auto}
	fmt.Fprintf(&sb, "%-42s", "field")
	for _, rel := range rels {
		for _, c := range codecList {
			fmt.Fprintf(&sb, " %9s", fmt.Sprintf("%s%d", c.Name()[:4], int(math.Round(-math.Log10(rel)))))
		}
	}
	sb.WriteString("\n")
	logSum := map[string]float64{}
	fields := m.Fields()
	for _, f := range fields {
		raw, err := m.Read(f)
		require.NoError(t, err)
		dt, err := codecs.ParseDType(f.DType)
		require.NoError(t, err)
		fmt.Fprintf(&sb, "%-42s", f.Name())
		for _, rel := range rels {
			for _, c := range codecList {
				r := fieldRatio(t, c, f, raw, dt, rel)
				logSum[fmt.Sprint(c.Name(), rel)] += math.Log(r)
				fmt.Fprintf(&sb, " %9.2f", r)
			}
		}
		sb.WriteString("\n")
	}
	fmt.Fprintf(&sb, "%-42s", "geometric mean")
	for _, rel := range rels {
		for _, c := range codecList {
			fmt.Fprintf(&sb, " %9.2f", math.Exp(logSum[fmt.Sprint(c.Name(), rel)]/float64(len(fields))))
		}
	}
	t.Log("\n" + sb.String())
}

// interpBenchChunks returns the chunks of cesm_lens_TS as BenchmarkLorenzo
// cuts them, or the 999x999 wmag slice as one chunk, at rel 1e-4.
func interpBenchChunks(b *testing.B, field string) ([][]byte, []codecs.Params, int) {
	if field == "cesm_lens_TS" {
		return benchmarkChunks(b)
	}
	m := realdata.ForTest(b)
	f, ok := m.Lookup(field)
	if !ok {
		b.Skipf("%s is not in the data set", field)
	}
	raw, err := m.Read(f)
	require.NoError(b, err)
	bound := 1e-4 * valueRange(codecs.Float32, raw, false, 0)
	return [][]byte{raw}, []codecs.Params{{DType: codecs.Float32, Shape: f.Shape, Bound: bound}}, len(raw)
}

var interpBenchFields = []string{"cesm_lens_TS", "sperr_wmag_slice"}

func BenchmarkInterpEncode(b *testing.B) {
	for _, field := range interpBenchFields {
		b.Run(field, func(b *testing.B) {
			chunks, params, rawBytes := interpBenchChunks(b, field)
			benchEncode(b, codecs.Interp, chunks, params, rawBytes)
		})
	}
}

func BenchmarkInterpDecode(b *testing.B) {
	for _, field := range interpBenchFields {
		b.Run(field, func(b *testing.B) {
			chunks, params, rawBytes := interpBenchChunks(b, field)
			benchDecode(b, codecs.Interp, chunks, params, rawBytes)
		})
	}
}

// BenchmarkAutoEncode measures the auto selector on the interp benchmark
// chunks: "select" runs only its sampling and tuning, "encode" runs the whole
// stream encode (selection, then the picked codec). The select share metric
// of "encode" is the selection time over the whole encode time, both in CPU
// time.
func BenchmarkAutoEncode(b *testing.B) {
	sel := codecs.Auto.(codecs.Selector)
	for _, field := range interpBenchFields {
		chunks, params, rawBytes := interpBenchChunks(b, field)
		b.Run(field+"/select", func(b *testing.B) {
			b.SetBytes(int64(rawBytes))
			ops := 0
			meter := startCPUMeter()
			for b.Loop() {
				for i, c := range chunks {
					if sel.Select(c, params[i]) == nil {
						b.Fatal("auto selected no codec")
					}
				}
				ops++
			}
			meter.report(b, int64(rawBytes), ops)
		})
		b.Run(field+"/encode", func(b *testing.B) {
			b.SetBytes(int64(rawBytes))
			var buf []byte
			var streamBytes int
			ops := 0
			meter := startCPUMeter()
			for b.Loop() {
				streamBytes = 0
				for i, c := range chunks {
					var err error
					buf, err = codecs.Encode(buf[:0], codecs.Auto, codecs.Bound{Mode: codecs.ModeAbs, Value: params[i].Bound}, params[i], c)
					if err != nil {
						b.Fatal(err)
					}
					streamBytes += len(buf)
				}
				ops++
			}
			meter.report(b, int64(rawBytes), ops)
			b.ReportMetric(float64(rawBytes)/float64(streamBytes), "ratio")
		})
	}
}
