package store

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/errstat"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

// realFieldCases returns every real field as f32 and f64 data with its fill
// value as the data holds it.
func realFieldCases(t *testing.T, m *realdata.Manifest) (names []string, datas [][]byte, dtypes []codecs.DType, fills []*float64, shapes [][]int) {
	for _, f := range m.Fields() {
		raw, err := m.Read(f)
		require.NoError(t, err)
		for _, dt := range []codecs.DType{codecs.Float32, codecs.Float64} {
			var fill *float64
			if f.Fill != nil {
				v := *f.Fill
				if f.DType == "float32" {
					v = float64(float32(v))
				}
				fill = &v
			}
			names = append(names, fmt.Sprintf("%s_%s", f.Name(), dt))
			datas = append(datas, convertRaw(raw, f.DType, dt))
			dtypes = append(dtypes, dt)
			fills = append(fills, fill)
			shapes = append(shapes, f.Shape)
		}
	}
	return
}

func compareRaw(dt codecs.DType, orig, dec []byte, bound float64, fill *float64) errstat.ErrorStats {
	if dt == codecs.Float32 {
		return errstat.Compare(viewAs[float32](orig), viewAs[float32](dec), bound, fill)
	}
	return errstat.Compare(viewAs[float64](orig), viewAs[float64](dec), bound, fill)
}

// l2Error returns ||x - x'||_2 over the finite, non-fill values.
func l2Error(dt codecs.DType, orig, dec []byte, fill *float64) float64 {
	sum := 0.0
	for i := range len(orig) / dt.Size() {
		x, y := valueAt(dt, orig, i), valueAt(dt, dec, i)
		if x-x != 0 || (fill != nil && x == *fill) {
			continue
		}
		sum += (x - y) * (x - y)
	}
	return math.Sqrt(sum)
}

func valueAt(dt codecs.DType, raw []byte, i int) float64 {
	if dt == codecs.Float32 {
		return float64(viewAs[float32](raw)[i])
	}
	return viewAs[float64](raw)[i]
}

func importAndRead(t *testing.T, db *DB, name string, dt codecs.DType, shape []int, data []byte, b codecs.Bound, fill *float64) (*ArrayInfo, []byte) {
	t.Helper()
	o := ArrayOptions{DType: dt, Shape: shape, Bound: b, Fill: fill}
	info, err := db.Import(name, bytes.NewReader(data), int64(len(data)), o, nil)
	require.NoError(t, err, name)
	got := make([]byte, len(data))
	require.NoError(t, db.Read(name, chunk.Full(shape), got))
	return info, got
}

// TestPSNRModeRealFields checks that every real field reaches the target
// PSNR, and logs what the uniform-error estimate, an absolute bound
// sqrt(3) times larger, would have reached.
func TestPSNRModeRealFields(t *testing.T) {
	m := realdata.ForTest(t)
	db := openTest(t)
	targets := []float64{40, 60, 80, 100}
	if testing.Short() {
		targets = []float64{60}
	}
	names, datas, dtypes, fills, shapes := realFieldCases(t, m)
	var log strings.Builder
	fmt.Fprintf(&log, "\n%-48s %6s %10s %10s %14s\n", "field", "target", "achieved", "ratio", "uniform est.")
	for i, name := range names {
		for _, target := range targets {
			b := codecs.Bound{Mode: codecs.ModePSNR, Value: target}
			arr := fmt.Sprintf("%s_psnr%g", name, target)
			info, got := importAndRead(t, db, arr, dtypes[i], shapes[i], datas[i], b, fills[i])
			s := compareRaw(dtypes[i], datas[i], got, info.AbsBound, fills[i])
			require.NoError(t, s.Err(), arr)
			require.GreaterOrEqual(t, s.PSNR, target, "%s: achieved PSNR %.2f dB below the target %g dB", arr, s.PSNR, target)

			// The estimate that assumes uniform errors, for the log only.
			est := codecs.Bound{Mode: codecs.ModeAbs, Value: math.Sqrt(3) * info.AbsBound}
			_, estGot := importAndRead(t, db, arr+"_est", dtypes[i], shapes[i], datas[i], est, fills[i])
			estStats := compareRaw(dtypes[i], datas[i], estGot, est.Value, fills[i])
			st, err := db.Stat(arr)
			require.NoError(t, err)
			fmt.Fprintf(&log, "%-48s %6g %10.2f %10.2f %14.2f\n", name, target, s.PSNR, st.Ratio, estStats.PSNR)
			require.NoError(t, db.Delete(arr+"_est"))
		}
	}
	t.Log(log.String())
}

func TestNormModeRealFields(t *testing.T) {
	m := realdata.ForTest(t)
	db := openTest(t)
	names, datas, dtypes, fills, shapes := realFieldCases(t, m)
	for i, name := range names {
		// Bounds relative to the L2 norm of the field itself.
		norm := l2Error(dtypes[i], datas[i], make([]byte, len(datas[i])), fills[i])
		for _, frac := range []float64{1e-2, 1e-4} {
			b := codecs.Bound{Mode: codecs.ModeNorm, Value: frac * norm}
			arr := fmt.Sprintf("%s_norm%g", name, frac)
			info, got := importAndRead(t, db, arr, dtypes[i], shapes[i], datas[i], b, fills[i])
			require.NoError(t, compareRaw(dtypes[i], datas[i], got, info.AbsBound, fills[i]).Err(), arr)
			achieved := l2Error(dtypes[i], datas[i], got, fills[i])
			require.LessOrEqual(t, achieved, b.Value, "%s: ||x-x'|| = %g > bound %g", arr, achieved, b.Value)
			t.Logf("%s: ||x-x'|| = %.4g of bound %.4g (%.1f%%), count %d", arr, achieved, b.Value, 100*achieved/b.Value, info.ValueCount)
		}
	}
}

func TestPWRelModeRealFields(t *testing.T) {
	m := realdata.ForTest(t)
	db := openTest(t)
	names, datas, dtypes, fills, shapes := realFieldCases(t, m)
	for i, name := range names {
		for _, r := range []float64{1e-2, 1e-4} {
			b := codecs.Bound{Mode: codecs.ModePWRel, Value: r}
			arr := fmt.Sprintf("%s_pwrel%g", name, r)
			info, got := importAndRead(t, db, arr, dtypes[i], shapes[i], datas[i], b, fills[i])
			require.Equal(t, 0.0, info.AbsBound, "pwrel arrays have no absolute bound")
			bad := 0
			for j := range len(datas[i]) / dtypes[i].Size() {
				x, y := valueAt(dtypes[i], datas[i], j), valueAt(dtypes[i], got, j)
				exact := x == 0 || x-x != 0 || (fills[i] != nil && x == *fills[i])
				if (exact && math.Float64bits(x) != math.Float64bits(y)) || (!exact && !(math.Abs(x-y) <= r*math.Abs(x))) {
					t.Errorf("%s value %d: got %v, expected %v within %v relative", arr, j, y, x, r)
					if bad++; bad == 10 {
						t.FailNow()
					}
				}
			}
		}
	}
}

func TestModeBoundsValidated(t *testing.T) {
	db := openTest(t)
	cases := []struct {
		b    codecs.Bound
		want string
	}{
		{codecs.Bound{Mode: codecs.ModePWRel, Value: 1}, "invalid pwrel bound 1"},
		{codecs.Bound{Mode: codecs.ModePWRel, Value: 0}, "invalid pwrel bound 0"},
		{codecs.Bound{Mode: codecs.ModePSNR, Value: -3}, "invalid psnr bound -3"},
		{codecs.Bound{Mode: codecs.ModePSNR, Value: math.Inf(1)}, "invalid psnr bound +Inf"},
		{codecs.Bound{Mode: codecs.ModeNorm, Value: 0}, "invalid norm bound 0"},
	}
	for _, c := range cases {
		_, err := db.Create("bad", ArrayOptions{DType: codecs.Float32, Shape: []int{4}, Bound: c.b})
		require.ErrorContains(t, err, c.want)
	}
	list, err := db.List()
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestNormBoundAtCreateUsesArraySize(t *testing.T) {
	db := openTest(t)
	info, err := db.Create("n", ArrayOptions{DType: codecs.Float64, Shape: []int{10, 10}, Bound: codecs.Bound{Mode: codecs.ModeNorm, Value: 1}})
	require.NoError(t, err)
	require.Equal(t, int64(100), info.ValueCount)
	require.InDelta(t, 0.1, info.AbsBound, 1e-15)
}
