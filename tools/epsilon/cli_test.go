package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/internal/demo"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/qos"
)

// run executes the epsilon command in-process and returns its standard
// output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func tsFile(t *testing.T) (path string, vals []float32) {
	m := realdata.ForTest(t)
	f, ok := m.Lookup("cesm_lens_TS")
	require.True(t, ok)
	raw, err := m.Read(f)
	require.NoError(t, err)
	vals = make([]float32, len(raw)/4)
	for i := range vals {
		vals[i] = math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
	}
	return filepath.Join(m.Dir, f.Path), vals
}

func TestImportInspectExport(t *testing.T) {
	src, orig := tsFile(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	out, err := run(t, "import", "--db", db, "--name", "ts", "--dtype", "f32", "--shape", "10,192,288", "--mode", "rel", "--bound", "1e-4", src)
	require.NoError(t, err)
	require.Contains(t, out, "imported ts")

	out, err = run(t, "inspect", "--db", db, "--name", "ts", "--json")
	require.NoError(t, err)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	for _, k := range []string{"raw_bytes", "stored_bytes", "ratio", "codec", "mode", "bound", "shape", "chunks"} {
		require.Contains(t, rep, k)
	}
	require.Equal(t, float64(len(orig)*4), rep["raw_bytes"])
	require.Greater(t, rep["ratio"].(float64), 2.0)
	require.Equal(t, "rel", rep["mode"])

	out, err = run(t, "ls", "--db", db, "--json")
	require.NoError(t, err)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list, 1)

	// Export a region as .npy and check it against the original.
	npyPath := filepath.Join(dir, "r.npy")
	_, err = run(t, "export", "--db", db, "--name", "ts", "--region", "2:5,10:100,7:250", npyPath)
	require.NoError(t, err)
	b, err := os.ReadFile(npyPath)
	require.NoError(t, err)
	hdrLen := len(b) - 3*90*243*4
	require.Zero(t, hdrLen%64)
	got := make([]float32, 3*90*243)
	want := make([]float32, 0, len(got))
	for i := range got {
		p := hdrLen + 4*i
		got[i] = math.Float32frombits(uint32(b[p]) | uint32(b[p+1])<<8 | uint32(b[p+2])<<16 | uint32(b[p+3])<<24)
	}
	for d := 2; d < 5; d++ {
		for y := 10; y < 100; y++ {
			want = append(want, orig[(d*192+y)*288+7:(d*192+y)*288+250]...)
		}
	}
	s := qos.Compare(want, got, 1e-4*(315.583740234375-211.9912872314453)*(1+1e-9), nil)
	require.NoError(t, s.Err())

	// The .npy file imports back with its own dtype and shape.
	_, err = run(t, "import", "--db", db, "--name", "again", "--mode", "none", npyPath)
	require.NoError(t, err)
	out, err = run(t, "inspect", "--db", db, "--name", "again", "--json")
	require.NoError(t, err)
	require.Contains(t, out, `"shape": [`+"\n    3,\n    90,\n    243\n  ]")
}

func TestImportBadInputWritesNothing(t *testing.T) {
	src, _ := tsFile(t)
	db := filepath.Join(t.TempDir(), "db")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--dtype", "f32", "--shape", "10,192,287", "--mode", "rel", "--bound", "1e-4"}, "the input has 2211840 bytes, shape 10x192x287 of f32 needs 2204160"},
		{[]string{"--dtype", "f16", "--shape", "10,192,288", "--mode", "rel", "--bound", "1e-4"}, `unknown dtype "f16"`},
		{[]string{"--dtype", "f32", "--shape", "10,192,288", "--codec", "sz9", "--mode", "rel", "--bound", "1e-4"}, `unknown codec "sz9"`},
		{[]string{"--dtype", "f32", "--shape", "10,192,288", "--mode", "rel", "--bound", "0"}, "invalid rel bound 0"},
		{[]string{"--dtype", "f32", "--shape", "10,192,288", "--mode", "abs", "--bound", "NaN"}, "invalid abs bound NaN"},
		{[]string{"--dtype", "f32", "--shape", "10,192,288", "--mode", "abs", "--bound", "-Inf"}, "invalid abs bound -Inf"},
		{[]string{"--dtype", "f32", "--shape", "10,192,288", "--chunks", "1,0,288", "--mode", "abs", "--bound", "1"}, "dimension 1 has size 0"},
		{[]string{"--dtype", "f32", "--shape", "10,192,288", "--mode", "lossy", "--bound", "1"}, `unknown error mode "lossy"`},
		{[]string{"--dtype", "f32", "--shape", "10,192,288", "--mode", "abs"}, "--mode abs needs --bound"},
	}
	for _, c := range cases {
		args := append([]string{"import", "--db", db, "--name", "ts"}, c.args...)
		_, err := run(t, append(args, src)...)
		require.ErrorContains(t, err, c.want)
	}
	if _, err := os.Stat(db); err == nil {
		out, err := run(t, "ls", "--db", db, "--json")
		require.NoError(t, err)
		require.JSONEq(t, "[]", out, "rejected imports leave no array")
	}

	_, err := run(t, "import", "--db", db, "--name", "ts", "--dtype", "f32", "--shape", "10,192,288", "--mode", "abs", "--bound", "1", src)
	require.NoError(t, err)
	_, err = run(t, "import", "--db", db, "--name", "ts", "--dtype", "f32", "--shape", "10,192,288", "--mode", "abs", "--bound", "1", src)
	require.ErrorContains(t, err, `array "ts": already exists`)
	_, err = run(t, "inspect", "--db", db, "--name", "nope")
	require.ErrorContains(t, err, `array "nope": not found`)
	out := filepath.Join(t.TempDir(), "x.raw")
	_, err = run(t, "export", "--db", db, "--name", "ts", "--region", "0:11,:,:", out)
	require.ErrorContains(t, err, "range 0:11 is outside the array, allowed is 0:10")
	_, err = os.Stat(out)
	require.True(t, os.IsNotExist(err), "a rejected export writes no file")
	_, err = run(t, "export", "--db", db, "--name", "ts", "--region", "3:3,:,:", out)
	require.ErrorContains(t, err, "start 3 >= stop 3")
}

func TestDemoAllWithinBound(t *testing.T) {
	m := realdata.ForTest(t)
	db := filepath.Join(t.TempDir(), "demo")
	out, err := run(t, "demo", "--data", m.Dir, "--db", db, "--json")
	require.NoError(t, err)
	var rows []demo.Row
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	// One row per dataset, plus one per particle set with its groups.
	require.GreaterOrEqual(t, len(rows), len(demo.Datasets(m)))
	kinds := map[string]int{}
	for _, r := range rows {
		kinds[r.Kind]++
		require.True(t, r.OK, "%s: %s", r.Name, r.Problem)
		require.LessOrEqual(t, r.MaxError, r.Allowed, r.Name)
		require.Greater(t, r.Ratio, 1.0, r.Name)
	}
	require.Equal(t, len(m.Fields()), kinds["fields"])
	require.Equal(t, 3, kinds["particle-set"], "Abacus, hfof and HACC with their linking lengths")
	_, err = run(t, "demo", "--data", m.Dir, "--db", db)
	require.ErrorContains(t, err, "already exists", "the demo never reuses a store")
}
