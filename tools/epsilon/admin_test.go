package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/store"
	"github.com/epsilon-db/epsilon/store/faultinject"
)

// runCommand runs the epsilon command line in-process and returns its
// output and error.
func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// writeField creates a store with a 3-D float32 array "f" and its original
// as a raw file, and returns the store folder and the raw file path.
func writeField(t *testing.T) (dir, rawPath string) {
	t.Helper()
	tmp := t.TempDir()
	dir = filepath.Join(tmp, "db")
	shape := []int{4, 30, 40}
	vals := make([]float32, chunk.Shape(shape).Count())
	raw := make([]byte, 4*len(vals))
	for i := range vals {
		vals[i] = float32(20 * math.Sin(float64(i)/17))
		b := math.Float32bits(vals[i])
		raw[4*i], raw[4*i+1], raw[4*i+2], raw[4*i+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
	}
	rawPath = filepath.Join(tmp, "f.raw")
	require.NoError(t, os.WriteFile(rawPath, raw, 0o644))
	_, err := runCommand(t, "import", "--db", dir, "--name", "f", "--mode", "abs", "--bound", "0.01",
		"--dtype", "f32", "--shape", "4,30,40", "--chunks", "1,15,40", rawPath)
	require.NoError(t, err)
	return dir, rawPath
}

func TestVerifyCommandCleanAndCorrupt(t *testing.T) {
	dir, _ := writeField(t)
	out, err := runCommand(t, "verify", "--db", dir)
	require.NoError(t, err)
	require.Equal(t, "no problems found\n", out)

	db, err := store.Open(dir, nil)
	require.NoError(t, err)
	_, err = faultinject.New(3).CorruptValue(db)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	out, err = runCommand(t, "verify", "--db", dir)
	require.ErrorIs(t, err, errProblems)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 1)
	require.Regexp(t, `^array "f" chunk \[\d \d \d\]: corrupt chunk: `, lines[0])

	out, err = runCommand(t, "verify", "--db", dir, "--name", "f", "--json")
	require.ErrorIs(t, err, errProblems)
	var problems []store.Problem
	require.NoError(t, json.Unmarshal([]byte(out), &problems))
	require.Len(t, problems, 1)
	require.Equal(t, store.ProblemCorruptChunk, problems[0].Kind)
}

func TestCompactCommandRecompress(t *testing.T) {
	dir, rawPath := writeField(t)
	out, err := runCommand(t, "compact", "--db", dir, "--name", "f", "--mode", "abs", "--bound", "0.001")
	require.ErrorIs(t, err, store.ErrBoundTooTight)
	require.Empty(t, out)

	out, err = runCommand(t, "compact", "--db", dir, "--name", "f", "--mode", "abs", "--bound", "0.1")
	require.NoError(t, err)
	require.Contains(t, out, "recompressed f to abs=0.1 (absolute 0.1, codec auto): 8 chunks re-encoded, 0 kept")

	out, err = runCommand(t, "diff", "--db", dir, "--name", "f", "--original", rawPath, "--json")
	require.NoError(t, err)
	var rep diffReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, 0, rep.Stats.Violations)
	require.LessOrEqual(t, rep.Stats.MaxAbsError, 0.1)
	require.Greater(t, rep.Stats.MaxAbsError, 0.01, "recompression to 0.1 should use more than the old bound")
	require.Equal(t, "[2,:,:]", rep.Slice)
	require.Greater(t, rep.SSIM, 0.9)

	out, err = runCommand(t, "compact", "--db", dir)
	require.NoError(t, err)
	require.Contains(t, out, "compacted ")
	out, err = runCommand(t, "verify", "--db", dir)
	require.NoError(t, err, out)
}

func TestInspectWholeStore(t *testing.T) {
	dir, _ := writeField(t)
	out, err := runCommand(t, "inspect", "--db", dir)
	require.NoError(t, err)
	require.Contains(t, out, "arrays    1, 19200 raw")
	require.Regexp(t, `(?m)^\s+f\s+f32\s+4x30x40\s+\S+:8\s+abs=0.01\s+8/8\s+19200\s`, out)
	require.Contains(t, out, "LEVEL")

	out, err = runCommand(t, "inspect", "--db", dir, "--json")
	require.NoError(t, err)
	var st store.StoreStat
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Len(t, st.Arrays, 1)
	require.Len(t, st.Levels, 7)
}

func TestDiffCommandPlot(t *testing.T) {
	dir, rawPath := writeField(t)
	png := filepath.Join(t.TempDir(), "d.png")
	out, err := runCommand(t, "diff", "--db", dir, "--name", "f", "--original", rawPath, "--slice", "1=7", "--plot", png)
	require.NoError(t, err)
	require.Contains(t, out, "0 values above the bound")
	require.Contains(t, out, "over slice [:,7,:]")
	b, err := os.ReadFile(png)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(b, []byte("\x89PNG")), "not a PNG")

	_, err = runCommand(t, "diff", "--db", dir, "--name", "f", "--original", rawPath, "--slice", "5=0")
	require.ErrorContains(t, err, `invalid --slice "5=0"`)
}

func TestDiffCommandPointwiseRelative(t *testing.T) {
	_, rawPath := writeField(t)
	dir := filepath.Join(t.TempDir(), "pw")
	_, err := runCommand(t, "import", "--db", dir, "--name", "f", "--mode", "pwrel", "--bound", "0.01",
		"--dtype", "f32", "--shape", "4,30,40", rawPath)
	require.NoError(t, err)

	out, err := runCommand(t, "diff", "--db", dir, "--name", "f", "--original", rawPath, "--json")
	require.NoError(t, err)
	var rep diffReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, 0, rep.Stats.Violations, "values within |x-x'| <= 0.01|x| counted as violations")
	require.Equal(t, 0, rep.Histogram[len(rep.Histogram)-1])
	require.Greater(t, rep.Stats.MaxAbsError, 0.0)

	out, err = runCommand(t, "diff", "--db", dir, "--name", "f", "--original", rawPath)
	require.NoError(t, err)
	require.Contains(t, out, ", 0 values above the bound")
	require.NotContains(t, out, "Inf")
}
