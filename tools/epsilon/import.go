package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/npy"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newImportCommand) }

type importOptions struct {
	db, name, dtype, shape, chunks, codec, mode, fill, attrs, device string
	target, qosMode                                                  string
	bound                                                            float64
	timeAxis, keyInterval                                            int
	jsonOut                                                          bool
}

func newImportCommand() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import --db DIR --name NAME (--mode abs|rel|pwrel|psnr|norm|none [--bound B] | --target METRIC=V) FILE",
		Short: "Import a raw little-endian C-order file or an .npy file as an array",
		Long: `Import reads FILE and stores it as array NAME.

A headerless file needs --dtype and --shape; an .npy file (recognized by its
extension) carries both in its header. The file is read chunk by chunk, so
files larger than memory import with a few chunks per core in memory.

--target replaces --mode and --bound with a quality the whole array must
meet: psnr=60 (dB), ssim=0.99, nrmse=1e-3, maxerr=0.01 (absolute) or
ratio=30 (the best quality that reaches the ratio). A learned model picks
each chunk's bound; --qos verify (the default) measures the result and
corrects it so the target is met, --qos fast trusts the prediction.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runImport(cmd, &o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder (created if missing)")
	f.StringVar(&o.name, "name", "", "array name")
	f.StringVar(&o.dtype, "dtype", "", "element type of a raw file: f32, f64, i8, i16, i32, i64, u8, u16, u32, u64")
	f.StringVar(&o.shape, "shape", "", "shape of a raw file, slowest dimension first, e.g. 10,192,288")
	f.StringVar(&o.chunks, "chunks", "", "chunk shape, e.g. 1,96,144 (default: about 1 MiB, trailing dimensions whole)")
	f.StringVar(&o.codec, "codec", "", "codec: "+strings.Join(codecs.Names(), ", ")+" (default: auto for floats, lossless for integers)")
	f.StringVar(&o.mode, "mode", "", "error mode: abs (|x-x'| <= bound), rel (bound times the value range), pwrel (|x-x'| <= bound*|x|), psnr (PSNR of at least bound dB), norm (||x-x'||_2 <= bound) or none (lossless)")
	f.Float64Var(&o.bound, "bound", 0, "error bound for every mode but none")
	f.IntVar(&o.timeAxis, "time-axis", -1, "dimension that is time: chunks of one timestep, each stored as the residual against the previous one (-1: none)")
	f.IntVar(&o.keyInterval, "key-interval", 0, "timesteps between key chunks stored without a residual, with --time-axis (0: the default 8)")
	f.StringVar(&o.fill, "fill", "", "fill value that marks missing data; it comes back exact and is left out of the value range")
	f.StringVar(&o.attrs, "attrs", "", "free-form JSON attributes kept with the array")
	f.StringVar(&o.target, "target", "", "quality target instead of --mode and --bound: psnr=DB, ssim=S, nrmse=N, maxerr=E or ratio=R")
	f.StringVar(&o.qosMode, "qos", "verify", "with --target: verify (measure and correct, the target is always met) or fast (trust the prediction)")
	f.BoolVar(&o.jsonOut, "json", false, "print the catalog entry as JSON")
	f.StringVar(&o.device, "device", store.DeviceAuto, "where chunks are encoded: auto (a GPU when one is usable), cpu or gpu (fail without one)")
	for _, name := range []string{"db", "name"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runImport(cmd *cobra.Command, o *importOptions, path string) (err error) {
	var target *qos.Target
	var qosMode qos.Mode
	if o.target != "" {
		if cmd.Flags().Changed("mode") || cmd.Flags().Changed("bound") {
			return fmt.Errorf("--target %s and --mode/--bound exclude each other: the target chooses the bounds", o.target)
		}
		t, err := qos.ParseTarget(o.target)
		if err != nil {
			return err
		}
		target = &t
		if qosMode, err = qos.ParseMode(o.qosMode); err != nil {
			return err
		}
		o.mode = "none"
	} else if cmd.Flags().Changed("qos") {
		return fmt.Errorf("--qos %s needs --target", o.qosMode)
	} else if o.mode == "" {
		return fmt.Errorf("give --mode abs|rel|none or --target METRIC=VALUE")
	}
	mode, err := codecs.ParseMode(o.mode)
	if err != nil {
		return err
	}
	if mode == codecs.ModeNone && cmd.Flags().Changed("bound") {
		return fmt.Errorf("--bound %v given with --mode none: lossless storage takes no bound", o.bound)
	}
	if mode != codecs.ModeNone && !cmd.Flags().Changed("bound") {
		return fmt.Errorf("--mode %s needs --bound, a finite number greater than 0", mode)
	}
	opts := store.ArrayOptions{Codec: o.codec, Bound: codecs.Bound{Mode: mode, Value: o.bound}}
	if err := opts.Bound.Validate(); err != nil {
		return err
	}
	if o.timeAxis < -1 {
		return fmt.Errorf("invalid --time-axis %d: a dimension index, or -1 for none", o.timeAxis)
	}
	if o.timeAxis >= 0 {
		opts.TimeAxis = &o.timeAxis
	}
	opts.KeyInterval = o.keyInterval
	if o.fill != "" {
		v, err := strconv.ParseFloat(o.fill, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("invalid --fill %q: must be a finite number", o.fill)
		}
		opts.Fill = &v
	}
	if o.chunks != "" {
		s, err := chunk.ParseShape(o.chunks)
		if err != nil {
			return fmt.Errorf("invalid --chunks: %w", err)
		}
		opts.Chunks = s
	}
	if o.attrs != "" {
		if !json.Valid([]byte(o.attrs)) {
			return fmt.Errorf("invalid --attrs %q: not valid JSON", o.attrs)
		}
		opts.Attrs = json.RawMessage(o.attrs)
	}

	isNpy := strings.HasSuffix(strings.ToLower(path), ".npy")
	if isNpy && (o.dtype != "" || o.shape != "") {
		return fmt.Errorf("%s: an .npy file carries its dtype and shape, drop --dtype and --shape", path)
	}
	if !isNpy {
		if o.dtype == "" || o.shape == "" {
			return fmt.Errorf("%s: a raw file needs --dtype and --shape", path)
		}
		if opts.DType, err = codecs.ParseDType(o.dtype); err != nil {
			return err
		}
		if opts.Shape, err = chunk.ParseShape(o.shape); err != nil {
			return err
		}
	}

	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return err
	}
	var offset int64
	if isNpy {
		h, err := npy.ReadHeader(file)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		opts.DType, opts.Shape, offset = h.DType, h.Shape, h.DataOffset
	}

	// A rejected import leaves no store behind where there was none.
	_, statErr := os.Stat(o.db)
	created := errors.Is(statErr, fs.ErrNotExist)
	db, err := store.Open(o.db, &store.Options{Device: o.device})
	if err != nil {
		if created {
			os.RemoveAll(o.db)
		}
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil && created {
			os.RemoveAll(o.db)
		}
	}()
	size := fi.Size() - offset
	src := io.NewSectionReader(file, offset, size)
	if target != nil {
		opts.Bound = codecs.Bound{}
		res, err := qos.Import(db, o.name, src, size, opts, qos.Options{Target: *target, Mode: qosMode})
		if err != nil {
			return err
		}
		if o.jsonOut {
			return writeJSON(cmd.OutOrStdout(), res)
		}
		measured := "measured"
		if !res.Measured {
			measured = "predicted"
		}
		fmt.Fprintf(cmd.OutOrStdout(), "imported %s: %s %v, %d chunks, target %s: %s %.4g (%s), ratio %.2f, bounds %.3g to %.3g, %d compressions\n",
			res.Info.Name, res.Info.DType, res.Info.Shape, res.Chunks, res.Target, target.Metric, res.Achieved, measured, res.Ratio, res.MinBound, res.MaxBound, res.Compressions)
		return nil
	}
	progress, finish := newProgress(cmd, "import "+o.name)
	info, err := db.Import(o.name, src, size, opts, progress)
	finish()
	if err != nil {
		return err
	}
	st, err := db.Stat(o.name)
	if err != nil {
		return err
	}
	if o.jsonOut {
		return writeJSON(cmd.OutOrStdout(), st.Info)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "imported %s: %s %v, %d chunks, %d -> %d bytes (ratio %.2f), abs bound %g\n",
		info.Name, info.DType, info.Shape, st.ChunksStored, st.RawBytes, st.StoredBytes, st.Ratio, info.AbsBound)
	return nil
}
