package main

import (
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/particles"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newInspectCommand) }

type inspectOptions struct {
	db, name string
	jsonOut  bool
}

func newInspectCommand() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect --db DIR [--name NAME] [--json]",
		Short: "Show how the store or an array is stored: sizes, ratios, codecs, bounds, Pebble levels",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runInspect(cmd, &o) },
	}
	cmd.Flags().StringVar(&o.db, "db", "", "store folder")
	cmd.Flags().StringVar(&o.name, "name", "", "array name (default: summarize the whole store)")
	cmd.Flags().BoolVar(&o.jsonOut, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

func runInspect(cmd *cobra.Command, o *inspectOptions) error {
	db, err := openExisting(o.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if o.name == "" {
		return inspectStore(cmd, o, db)
	}
	pst, err := particlesStat(db, o.name)
	if err != nil {
		return err
	}
	if pst != nil {
		return printParticlesInspect(cmd, o, pst)
	}
	st, err := db.Stat(o.name)
	if err != nil {
		return err
	}
	a := st.Info
	if o.jsonOut {
		return writeJSON(cmd.OutOrStdout(), st.Report())
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "array     %s\n", a.Name)
	fmt.Fprintf(out, "dtype     %s\nshape     %s\nchunks    %s (%d of %d stored)\n", a.DType, chunk.Shape(a.Shape), chunk.Shape(a.Chunks), st.ChunksStored, st.ChunksTotal)
	fmt.Fprintf(out, "codec     %s\nbound     %s (absolute %g)\n", a.Codec, a.ErrorBound(), a.AbsBound)
	if a.Fill != nil {
		fmt.Fprintf(out, "fill      %g\n", *a.Fill)
	}
	fmt.Fprintf(out, "size      %d raw, %d stored, ratio %.2f\n\n", st.RawBytes, st.StoredBytes, st.Ratio)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "CHUNK\tCODEC\tABS BOUND\tRAW\tSTORED\tRATIO\t")
	for _, c := range st.Chunks {
		fmt.Fprintf(w, "%v\t%s\t%g\t%d\t%d\t%.2f\t\n", c.Coords, c.Codec, c.AbsBound, c.RawBytes, c.StoredBytes, float64(c.RawBytes)/float64(c.StoredBytes))
	}
	return w.Flush()
}

// particlesInspectReport is what inspect --json prints for a particle
// dataset.
type particlesInspectReport struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	*particles.Stat
	// CorrectionPercent is the stored correction data as a percentage of
	// the stored positions.
	CorrectionPercent float64 `json:"correction_percent"`
}

func printParticlesInspect(cmd *cobra.Command, o *inspectOptions, st *particles.Stat) error {
	c := st.Info.Correction
	if o.jsonOut {
		return writeJSON(cmd.OutOrStdout(), particlesInspectReport{
			Name: o.name, Kind: "particles", Stat: st, CorrectionPercent: 100 * float64(st.CorrectionBytes) / float64(st.PositionBytes),
		})
	}
	a := st.Info
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "particles  %s\n", o.name)
	fmt.Fprintf(out, "count      %d (%s)\nbox        %g periodic=%v\nlink       %g\n", a.Count, a.DType, a.Box, a.Periodic, a.Link)
	fmt.Fprintf(out, "bound      %g\n", a.Bound)
	fmt.Fprintf(out, "size       %d raw, %d stored, ratio %.2f; positions %d stored, ratio %.2f\n", st.RawBytes, st.StoredBytes, st.Ratio, st.PositionBytes, st.PositionRatio)
	fmt.Fprintf(out, "correction %d bytes over %d position bytes (%.2f%%): %d pairs, %d particles moved, %d of them exact; %d particles change group without it\n",
		st.CorrectionBytes, st.PositionBytes, 100*float64(st.CorrectionBytes)/float64(st.PositionBytes), c.Pairs, c.MovedParticles, c.ExactParticles, c.Relabelled)
	return nil
}

// inspectStore prints the arrays of the store and the state of Pebble.
func inspectStore(cmd *cobra.Command, o *inspectOptions, db *store.DB) error {
	st, err := db.StoreStat()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.jsonOut {
		return writeJSON(out, st)
	}
	fmt.Fprintf(out, "store     %s\n", db.Dir())
	fmt.Fprintf(out, "arrays    %d, %d raw, %d stored, ratio %.2f\n", len(st.Arrays), st.RawBytes, st.StoredBytes, st.Ratio)
	fmt.Fprintf(out, "disk      %d bytes, memtable %d bytes\n", st.DiskBytes, st.MemTableBytes)
	fmt.Fprintf(out, "wal       %d files, %d bytes\n\n", st.WAL.Files, st.WAL.Bytes)

	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "ARRAY\tDTYPE\tSHAPE\tCODECS\tBOUND\tCHUNKS\tRAW\tSTORED\tRATIO\t")
	for _, a := range st.Arrays {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%.2f\t\n", a.Info.Name, a.Info.DType, chunk.Shape(a.Info.Shape),
			codecList(a.Codecs), a.Info.ErrorBound(), a.ChunksStored, a.ChunksTotal, a.RawBytes, a.StoredBytes, a.Ratio)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "LEVEL\tFILES\tBYTES\tSUBLEVELS\t")
	for _, l := range st.Levels {
		fmt.Fprintf(w, "L%d\t%d\t%d\t%d\t\n", l.Level, l.Files, l.Bytes, l.Sublevels)
	}
	return w.Flush()
}

// codecList formats chunk counts by codec as "lorenzo:10,lossless:2", in
// name order.
func codecList(counts map[string]int) string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("%s:%d", n, counts[n])
	}
	if s == "" {
		s = "-"
	}
	return s
}
