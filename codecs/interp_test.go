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
func roundTripCodec(t testing.TB, c codecs.Codec, raw []byte, p codecs.Params) (payload, stream []byte) {
	t.Helper()
	payload, err := c.AppendEncode(nil, raw, p)
	require.NoError(t, err)
	got := make([]byte, len(raw))
	require.NoError(t, c.Decode(got, payload, p))
	codectest.RequireWithinBound(t, p.DType, raw, got, p.Bound, p.HasFill, p.Fill)

	stream, err = codecs.Encode(nil, c, codecs.Bound{Mode: codecs.ModeAbs, Value: p.Bound}, p, raw)
	require.NoError(t, err)
	clear(got)
	h, err := codecs.Decode(got, stream)
	require.NoError(t, err)
	require.Contains(t, []codecs.ID{c.ID(), codecs.IDLossless}, h.Codec)
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
	fmt.Fprintf(&sb, "%-40s %9s %9s %9s %9s\n", "field", "interp3", "lorenzo3", "interp4", "lorenzo4")
	logSum := map[string]float64{}
	fields := m.Fields()
	for _, f := range fields {
		raw, err := m.Read(f)
		require.NoError(t, err)
		dt, err := codecs.ParseDType(f.DType)
		require.NoError(t, err)
		fmt.Fprintf(&sb, "%-40s", f.Name())
		for _, rel := range rels {
			for _, c := range []codecs.Codec{codecs.Interp, codecs.Lorenzo} {
				r := fieldRatio(t, c, f, raw, dt, rel)
				logSum[fmt.Sprint(c.Name(), rel)] += math.Log(r)
				fmt.Fprintf(&sb, " %9.2f", r)
			}
		}
		sb.WriteString("\n")
	}
	fmt.Fprintf(&sb, "%-40s", "geometric mean")
	for _, rel := range rels {
		for _, c := range []codecs.Codec{codecs.Interp, codecs.Lorenzo} {
			fmt.Fprintf(&sb, " %9.2f", math.Exp(logSum[fmt.Sprint(c.Name(), rel)]/float64(len(fields))))
		}
	}
	t.Log("\n" + sb.String())
}
