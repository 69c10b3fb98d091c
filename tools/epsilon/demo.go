package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/demo"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

func init() { register(newDemoCommand) }

type demoOptions struct {
	data, db, codec string
	rel             float64
	seed            uint64
	jsonOut         bool
}

func newDemoCommand() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo [--data DIR] [--db DIR] [--json]",
		Short: "Import every real dataset at a relative bound, read it back and check every value",
		Long: `Demo runs epsilon's main job on the real data set (manifest.json in --data,
by default $EPSILON_DATA or ../shared/data): it imports every field and
particle position set at relative bound --rel (1e-4), reads each back whole
and in a random region, checks every value against its bound in float64,
and prints one row per dataset. It exits non-zero if any value is out of
bound.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "data folder with manifest.json (default: $EPSILON_DATA or ../shared/data)")
	f.StringVar(&o.db, "db", "", "store folder to create; it must not exist (default: a temporary folder, removed afterwards)")
	f.StringVar(&o.codec, "codec", "", "codec for every dataset (default: auto)")
	f.Float64Var(&o.rel, "rel", 1e-4, "relative error bound")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the random regions")
	f.BoolVar(&o.jsonOut, "json", false, "print JSON")
	return cmd
}

func runDemo(cmd *cobra.Command, o *demoOptions) error {
	bound := codecs.Bound{Mode: codecs.ModeRel, Value: o.rel}
	if err := bound.Validate(); err != nil {
		return fmt.Errorf("--rel: %w", err)
	}
	dataDir := o.data
	if dataDir == "" {
		var err error
		if dataDir, err = realdata.Dir(); err != nil {
			return err
		}
	}
	dbDir := o.db
	if dbDir == "" {
		tmp, err := os.MkdirTemp("", "epsilon-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dbDir = filepath.Join(tmp, "store")
	}
	progress := func(name string) {
		if !o.jsonOut {
			fmt.Fprintf(cmd.ErrOrStderr(), "importing %s\n", name)
		}
	}
	rows, err := demo.Run(demo.Config{DataDir: dataDir, DB: dbDir, Bound: bound, Codec: o.codec, Seed: o.seed}, progress)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range rows {
		if !r.OK {
			failed++
		}
	}
	if o.jsonOut {
		for i := range rows {
			if math.IsInf(rows[i].PSNR, 1) {
				rows[i].PSNR = 999 // JSON has no infinity; an exact array reads as 999 dB
			}
		}
		if err := writeJSON(cmd.OutOrStdout(), rows); err != nil {
			return err
		}
	} else {
		printDemoTable(cmd, rows, bound)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d datasets FAILED their bound", failed, len(rows))
	}
	return nil
}

func printDemoTable(cmd *cobra.Command, rows []demo.Row, bound codecs.Bound) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "bound %s on every dataset; max err / allowed must be <= 1\n\n", bound)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DATASET\tSHAPE\tMB\tCODEC\tRATIO\tWRITE MB/s\tREAD MB/s\tMAX ERR/ALLOWED\tPSNR dB\tRESULT")
	for _, r := range rows {
		result := "OK"
		if !r.OK {
			result = "FAIL: " + r.Problem
		}
		errRatio := 0.0
		if r.Allowed > 0 {
			errRatio = r.MaxError / r.Allowed
		}
		fmt.Fprintf(w, "%s\t%s\t%.2f\t%s\t%.2f\t%.0f\t%.0f\t%.3f\t%.1f\t%s\n",
			r.Name, chunk.Shape(r.Shape), r.MB, r.Codec, r.Ratio, r.WriteMBps, r.ReadMBps, errRatio, r.PSNR, strings.TrimSpace(result))
	}
	w.Flush()
}
