package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/internal/realdata"
)

func ptr(v float64) *float64 { return &v }

func TestGeoMean(t *testing.T) {
	require.InDelta(t, 4.0, geoMean([]float64{2, 8}), 1e-12)
	require.InDelta(t, 10.0, geoMean([]float64{10}), 1e-12)
	require.InDelta(t, 3.0, geoMean([]float64{1, 3, 9, 0, math.Inf(1)}), 1e-12, "zero and infinity are left out")
	require.True(t, math.IsNaN(geoMean(nil)))
}

func TestMachineShared(t *testing.T) {
	require.True(t, machineShared(2, "0.50 0.40 0.30", "4.52 4.58 6.82"), "end load above the CPUs")
	require.True(t, machineShared(2, "2.00 1.00 1.00"), "load equal to the CPUs")
	require.False(t, machineShared(2, "1.20 3.00 5.00", "0.90 0.80 0.70"), "only the 1-minute load counts")
	require.False(t, machineShared(2, "unknown", ""), "unknown loads")
}

func TestMedian(t *testing.T) {
	require.Equal(t, 2.0, median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	xs := []float64{3, 1, 2}
	median(xs)
	require.Equal(t, []float64{3, 1, 2}, xs, "median must not reorder its input")
}

func TestFamily(t *testing.T) {
	require.Equal(t, "climate", family("cesm_lens_TS_daily_f32_10x192x288"))
	require.Equal(t, "climate", family("foam_ocean_V_f32_24x128x128"))
	require.Equal(t, "turbulence", family("sperr_pressure_f64_384x384"))
	require.Equal(t, "cosmology", family("nyx_z4.2_temperature_f32_32x32x32"))
	require.Equal(t, "other", family("sz3_testfloat_f32_128x8x8"))
}

// testRows are two fields of two codecs at one bound, plus one row at
// another bound.
func testRows() []Row {
	return []Row{
		{Field: "a", Codec: "x", Rel: 1e-3, Abs: 0.1, RawBytes: 1000, CompressedBytes: 100, Values: 250, PSNR: ptr(60), MaxError: 0.1, CompressS: 1e-3, DecompressS: 1e-3},
		{Field: "b", Codec: "x", Rel: 1e-3, Abs: 0.2, RawBytes: 1000, CompressedBytes: 25, Values: 250, PSNR: ptr(70), MaxError: 0.1, CompressS: 4e-3, DecompressS: 1e-3},
		{Field: "a", Codec: "y", Rel: 1e-3, Abs: 0.1, RawBytes: 1000, CompressedBytes: 500, Values: 250, PSNR: nil, MaxError: 0, CompressS: 1e-3, DecompressS: 1e-3},
		{Field: "b", Codec: "y", Rel: 1e-3, Abs: 0.2, RawBytes: 1000, CompressedBytes: 200, Values: 250, PSNR: ptr(50), MaxError: 0.3, Violations: 7, CompressS: 1e-3, DecompressS: 1e-3},
		{Field: "a", Codec: "x", Rel: 1e-2, Abs: 1, RawBytes: 1000, CompressedBytes: 10, Values: 250, PSNR: ptr(40), MaxError: 0.5, CompressS: 1e-3, DecompressS: 1e-3},
	}
}

func TestRowDerivedValues(t *testing.T) {
	r := testRows()[0]
	require.Equal(t, 10.0, r.Ratio())
	require.Equal(t, 3.2, r.BitsPerValue())
	require.InDelta(t, 1.0, r.ErrorRatio(), 1e-12)
	require.InDelta(t, 1.0, r.CompressMBps(), 1e-12)
	require.True(t, math.IsInf(testRows()[2].psnrValue(), 1))
}

func TestSummarize(t *testing.T) {
	sums := summarize(testRows(), []float64{1e-2, 1e-3}, []string{"x", "y", "z"})
	require.Len(t, sums, 3, "z has no rows, y none at 1e-2")

	require.Equal(t, "x", sums[0].Codec)
	require.Equal(t, 1e-2, sums[0].Rel)
	require.Equal(t, 1, sums[0].Fields)

	x := sums[1]
	require.Equal(t, 2, x.Fields)
	require.InDelta(t, 20.0, x.Ratio, 1e-9, "geometric mean of 10 and 40")
	require.InDelta(t, 65.0, x.PSNR, 1e-9)
	require.InDelta(t, 0.5, x.CompressMBps, 1e-9, "geometric mean of 1 and 0.25 MB/s")
	require.InDelta(t, 1.0, x.MaxErrorRatio, 1e-9)

	y := sums[2]
	require.InDelta(t, math.Sqrt(2*5), y.Ratio, 1e-9)
	require.InDelta(t, 50.0, y.PSNR, 1e-9, "an exact field has no finite PSNR to average")
	require.InDelta(t, 1.5, y.MaxErrorRatio, 1e-9)
	require.Equal(t, 7, y.Violations)
	require.Equal(t, 1, y.FieldsViolating)
}

func TestTables(t *testing.T) {
	var b bytes.Buffer
	writeSummaryTable(&b, summarize(testRows(), []float64{1e-3}, []string{"x", "y"}))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, "| 0.001 | x | 2 | 20.00 | 65.0 | 1.0000 | 0 (0) | 0 | 1 |", lines[2])
	require.Equal(t, "| 0.001 | y | 2 | 3.16 | 50.0 | 1.5000 | 7 (1) | 1 | 1 |", lines[3])

	b.Reset()
	writeRowTable(&b, testRows())
	lines = strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 7)
	require.Equal(t, "| a | 0.01 | x | 100.00 | 0.320 | 40.0 | 0.5000 | 0 | 1 | 1 |", lines[2], "loosest bound first")
	require.Equal(t, "| a | 0.001 | y | 2.00 | 16.000 | +Inf | 0.0000 | 0 | 1 | 1 |", lines[4])
}

func TestFormatErrorRatio(t *testing.T) {
	require.Equal(t, "1.0000", formatErrorRatio(1))
	require.Equal(t, "1.0000+", formatErrorRatio(1.00000001))
	require.Equal(t, "0.2070", formatErrorRatio(0.207))
	require.Equal(t, "7.2e+30", formatErrorRatio(7.2e30))
}

func TestFamilyCurves(t *testing.T) {
	rows := testRows()
	for i := range rows {
		rows[i].Family = "climate"
	}
	curves := familyCurves(rows)
	x := curves[[2]string{"x", "climate"}]
	require.Len(t, x, 2)
	require.InDelta(t, 0.32, x[0].bits, 1e-9, "rel 1e-2 first")
	require.InDelta(t, (3.2+0.8)/2, x[1].bits, 1e-9)
	require.InDelta(t, 65.0, x[1].psnr, 1e-9)
	require.Len(t, curves[[2]string{"y", "climate"}], 1, "the exact row is left out")
}

func TestQuickRunWritesResults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs codecs on two real fields")
	}
	realdata.ForTest(t)
	out := t.TempDir()
	require.NoError(t, run(options{quick: true, anchors: false, out: out, reps: 1}))

	text, err := os.ReadFile(filepath.Join(out, "RESULTS.md"))
	require.NoError(t, err)
	require.Contains(t, string(text), "| 0.001 | block | 2 |")
	require.Contains(t, string(text), "None: every value of every codec is within the bound.")
	require.Contains(t, string(text), "SZ3 and ZFP were not run")
	info, err := os.Stat(filepath.Join(out, "rate_distortion.png"))
	require.NoError(t, err)
	require.Greater(t, info.Size(), int64(1000))
}
