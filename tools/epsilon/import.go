package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/npy"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newImportCommand) }

type importOptions struct {
	db, name, dtype, shape, chunks, codec, mode, fill, attrs string
	bound                                                    float64
	jsonOut                                                  bool
}

func newImportCommand() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import --db DIR --name NAME --mode abs|rel|none [--bound B] FILE",
		Short: "Import a raw little-endian C-order file or an .npy file as an array",
		Long: `Import reads FILE and stores it as array NAME.

A headerless file needs --dtype and --shape; an .npy file (recognized by its
extension) carries both in its header. The file is read chunk by chunk, so
files larger than memory import with a few chunks per core in memory.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runImport(cmd, &o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder (created if missing)")
	f.StringVar(&o.name, "name", "", "array name")
	f.StringVar(&o.dtype, "dtype", "", "element type of a raw file: f32, f64, i8, i16, i32, i64, u8, u16, u32, u64")
	f.StringVar(&o.shape, "shape", "", "shape of a raw file, slowest dimension first, e.g. 10,192,288")
	f.StringVar(&o.chunks, "chunks", "", "chunk shape, e.g. 1,96,144 (default: about 1 MiB, trailing dimensions whole)")
	f.StringVar(&o.codec, "codec", "", "codec: lorenzo or lossless (default: lorenzo for floats, lossless for integers)")
	f.StringVar(&o.mode, "mode", "", "error mode: abs (|x-x'| <= bound), rel (bound times the value range) or none (lossless)")
	f.Float64Var(&o.bound, "bound", 0, "error bound for --mode abs or rel")
	f.StringVar(&o.fill, "fill", "", "fill value that marks missing data; it comes back exact and is left out of the value range")
	f.StringVar(&o.attrs, "attrs", "", "free-form JSON attributes kept with the array")
	f.BoolVar(&o.jsonOut, "json", false, "print the catalog entry as JSON")
	for _, name := range []string{"db", "name", "mode"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runImport(cmd *cobra.Command, o *importOptions, path string) error {
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
	if strings.HasSuffix(strings.ToLower(path), ".npy") {
		h, err := npy.ReadHeader(file)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if o.dtype != "" || o.shape != "" {
			return fmt.Errorf("%s: an .npy file carries its dtype and shape, drop --dtype and --shape", path)
		}
		opts.DType, opts.Shape, offset = h.DType, h.Shape, h.DataOffset
	} else {
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

	db, err := store.Open(o.db, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	size := fi.Size() - offset
	src := io.NewSectionReader(file, offset, size)
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
