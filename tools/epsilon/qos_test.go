package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
)

func TestImportTargetPSNR(t *testing.T) {
	src, orig := tsFile(t)
	db := filepath.Join(t.TempDir(), "db")
	out, err := run(t, "import", "--db", db, "--name", "ts", "--dtype", "f32", "--shape", "10,192,288", "--target", "psnr=60", src)
	require.NoError(t, err)
	require.Contains(t, out, "target psnr=60")
	require.Contains(t, out, "(measured)")

	s, err := store.Open(db, nil)
	require.NoError(t, err)
	defer s.Close()
	dec := make([]float32, len(orig))
	require.NoError(t, s.Read("ts", chunk.Full(chunk.Shape{10, 192, 288}), dec))
	st := qos.Compare(orig, dec, math.Inf(1), nil)
	require.GreaterOrEqual(t, st.PSNR, 60.0)
}

func TestImportTargetBadInput(t *testing.T) {
	src, _ := tsFile(t)
	db := filepath.Join(t.TempDir(), "db")
	base := []string{"import", "--db", db, "--name", "ts", "--dtype", "f32", "--shape", "10,192,288"}
	cases := map[string][]string{
		"--target psnr=60 and --mode/--bound exclude each other": {"--target", "psnr=60", "--mode", "abs", "--bound", "0.1"},
		`unknown target metric "snr"`:                            {"--target", "snr=60"},
		"a compression ratio below 1 is not a target":            {"--target", "ratio=0.5"},
		"below the f32 precision":                                {"--target", "psnr=400"},
		`unknown qos mode "quick"`:                               {"--target", "psnr=60", "--qos", "quick"},
		"--qos fast needs --target":                              {"--mode", "abs", "--bound", "0.1", "--qos", "fast"},
		"give --mode abs|rel|none or --target":                   {},
	}
	for msg, extra := range cases {
		args := append(append(append([]string(nil), base...), extra...), src)
		_, err := run(t, args...)
		require.ErrorContains(t, err, msg, "%v", extra)
	}
	// Nothing was written: not even the store folder.
	_, err := os.Stat(db)
	require.True(t, os.IsNotExist(err), "a rejected import leaves no store behind: %v", err)
}

func TestQOSTrainNeedsOutput(t *testing.T) {
	_, err := run(t, "qos", "train", "--data", t.TempDir())
	require.ErrorContains(t, err, "give --out MODEL, --db DIR or both")
	_, err = run(t, "qos", "train", "--data", t.TempDir(), "--out", filepath.Join(t.TempDir(), "m"))
	require.ErrorContains(t, err, "no manifest.json")
}

func TestQOSEvalRejectsBadInput(t *testing.T) {
	cases := map[string][]string{
		`invalid --targets: unknown target metric "snr"`: {"--targets", "snr=60"},
		"invalid --targets":               {"--targets", "psnr=60,ratio=0.5"},
		"lossless has no bound to choose": {"--codecs", "lossless"},
		"no manifest.json":                {"--targets", "psnr=60"},
	}
	for msg, extra := range cases {
		args := append([]string{"qos", "eval", "--data", t.TempDir()}, extra...)
		_, err := run(t, args...)
		require.ErrorContains(t, err, msg, "%v", extra)
	}
}
