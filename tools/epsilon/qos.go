package main

import (
	"fmt"
	"math"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newQOSCommand) }

func newQOSCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "qos",
		Short: "Train and evaluate the model that turns quality targets into bounds",
	}
	cmd.AddCommand(newQOSTrainCommand(), newQOSEvalCommand())
	return cmd
}

type qosTrainOptions struct {
	data, out, db string
	experts       int
}

func newQOSTrainCommand() *cobra.Command {
	var o qosTrainOptions
	cmd := &cobra.Command{
		Use:   "train --data DIR (--out MODEL | --db DIR)",
		Short: "Train a quality model by sweeping bounds over real arrays",
		Long: `Train compresses every float field of DIR with every registered lossy
codec over a sweep of bounds, and fits a mixture of boosted-tree experts per
codec that predicts the error, SSIM and size of a chunk from its features
and the bound. --out writes the model file; --db stores it in a store, whose
imports then prefer it to the embedded default.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runQOSTrain(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "data folder with a manifest.json, or its fields/ subfolder")
	f.StringVar(&o.out, "out", "", "model file to write")
	f.StringVar(&o.db, "db", "", "store folder to keep the model in")
	f.IntVar(&o.experts, "experts", 3, "experts per codec in the mixture")
	_ = cmd.MarkFlagRequired("data")
	return cmd
}

func runQOSTrain(cmd *cobra.Command, o *qosTrainOptions) error {
	if o.out == "" && o.db == "" {
		return fmt.Errorf("give --out MODEL, --db DIR or both: the model has to go somewhere")
	}
	if o.experts < 1 || o.experts > 16 {
		return fmt.Errorf("invalid --experts %d: allowed are 1 to 16", o.experts)
	}
	fields, err := qos.LoadFields(o.data)
	if err != nil {
		return err
	}
	m, err := qos.Train(fields, qos.TrainOptions{Experts: o.experts, Progress: func(done, total int) {
		fmt.Fprintf(cmd.ErrOrStderr(), "\rswept %d/%d fields", done, total)
	}})
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d bytes, codecs %v, %d fields\n", o.out, len(b), m.Codecs(), len(fields))
	}
	if o.db != "" {
		db, err := store.Open(o.db, nil)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := qos.SaveModel(db, m); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "stored the model in %s\n", o.db)
	}
	return nil
}

type qosEvalOptions struct {
	data    string
	codecs  []string
	targets []string
	experts int
	jsonOut bool
	verbose bool
}

func newQOSEvalCommand() *cobra.Command {
	var o qosEvalOptions
	cmd := &cobra.Command{
		Use:   "eval --data DIR [--json]",
		Short: "Evaluate the quality model with leave-one-family-out splits",
		Long: `Eval trains one model per field family without that family and tests it
on the family's fields: prediction error, hit rates of fast and verify mode,
compressions per chunk, ratio against the per-chunk oracle (bisection with
real compressions) and the closed-form rule, and the selection time
relative to one compression. It compresses each field many times and takes
minutes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runQOSEval(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "data folder with a manifest.json, or its fields/ subfolder")
	f.IntVar(&o.experts, "experts", 3, "experts per codec in the mixture")
	f.StringSliceVar(&o.codecs, "codecs", nil, "codecs to train and evaluate (default: every registered lossy codec)")
	f.StringSliceVar(&o.targets, "targets", nil, "targets to evaluate, such as psnr=60,ssim=0.99; a maxerr value is relative to each field's value range (default: psnr 40, 60, 80; ssim 0.99; nrmse 1e-3; maxerr 1e-3; ratio 10)")
	f.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print a line per case to standard error")
	_ = cmd.MarkFlagRequired("data")
	return cmd
}

func runQOSEval(cmd *cobra.Command, o *qosEvalOptions) error {
	var targets []qos.Target
	for _, text := range o.targets {
		t, err := qos.ParseTarget(text)
		if err != nil {
			return fmt.Errorf("invalid --targets: %w", err)
		}
		targets = append(targets, t)
	}
	for _, name := range o.codecs {
		if name == "lossless" {
			return fmt.Errorf("invalid --codecs %q: lossless has no bound to choose; name lossy codecs such as lorenzo or auto", name)
		}
		if _, err := codecs.ByName(name); err != nil {
			return fmt.Errorf("invalid --codecs: %w", err)
		}
	}
	fields, err := qos.LoadFields(o.data)
	if err != nil {
		return err
	}
	opts := qos.EvalOptions{Train: qos.TrainOptions{Experts: o.experts, Codecs: o.codecs}, Targets: targets}
	if o.verbose {
		opts.Progress = func(line string) { fmt.Fprintln(cmd.ErrOrStderr(), line) }
	}
	rep, err := qos.Evaluate(fields, opts)
	if err != nil {
		return err
	}
	if o.jsonOut {
		return writeJSON(cmd.OutOrStdout(), rep)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "metric\tcodec\tcases\tpred MAPE %\tratio MAPE %\tfast hit %\tverify hit %\tcomp/chunk\tverify/oracle\tfast/oracle\tverify/closed\tclosed hit %\tdPSNR vs oracle\tselect % of 1 comp\t")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%.1f\t%.0f\t%.0f\t%.2f\t%.3f\t%.3f\t%s\t%s\t%s\t%.1f\t\n",
			r.Metric, r.Codec, r.Cases, num(r.PredMAPE, "%.1f"), r.RatioMAPE, r.FastHit, r.VerifyHit, r.VerifyCompressions,
			r.VerifyVsOracle, r.FastVsOracle, num(r.VerifyVsClosed, "%.3f"), num(r.ClosedHit, "%.0f"), num(r.PSNRVsOracle, "%+.1f"), r.SelectionCost)
	}
	return w.Flush()
}

// num formats v, or "-" when it is NaN.
func num(v float64, format string) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}
