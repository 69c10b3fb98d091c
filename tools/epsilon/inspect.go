package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/particles"
)

func init() { register(newInspectCommand) }

type inspectOptions struct {
	db, name string
	jsonOut  bool
}

// inspectReport is the JSON document of inspect --json.
type inspectReport struct {
	Name         string         `json:"name"`
	DType        codecs.DType   `json:"dtype"`
	Shape        []int          `json:"shape"`
	Chunks       []int          `json:"chunks"`
	Codec        string         `json:"codec"`
	Mode         codecs.Mode    `json:"mode"`
	Bound        float64        `json:"bound"`
	AbsBound     float64        `json:"abs_bound"`
	Fill         *float64       `json:"fill,omitempty"`
	RawBytes     int64          `json:"raw_bytes"`
	StoredBytes  int64          `json:"stored_bytes"`
	Ratio        float64        `json:"ratio"`
	ChunksTotal  int            `json:"chunks_total"`
	ChunksStored int            `json:"chunks_stored"`
	ChunkCodecs  map[string]int `json:"chunk_codecs"`
	ChunkList    any            `json:"chunk_list"`
}

func newInspectCommand() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect --db DIR --name NAME [--json]",
		Short: "Show how an array is stored: sizes, ratio, codec and bound, per chunk",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runInspect(cmd, &o) },
	}
	cmd.Flags().StringVar(&o.db, "db", "", "store folder")
	cmd.Flags().StringVar(&o.name, "name", "", "array name")
	cmd.Flags().BoolVar(&o.jsonOut, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("db")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func runInspect(cmd *cobra.Command, o *inspectOptions) error {
	db, err := openExisting(o.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
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
		return writeJSON(cmd.OutOrStdout(), inspectReport{
			Name: a.Name, DType: a.DType, Shape: a.Shape, Chunks: a.Chunks, Codec: a.Codec,
			Mode: a.Mode, Bound: a.Bound, AbsBound: a.AbsBound, Fill: a.Fill,
			RawBytes: st.RawBytes, StoredBytes: st.StoredBytes, Ratio: st.Ratio,
			ChunksTotal: st.ChunksTotal, ChunksStored: st.ChunksStored, ChunkCodecs: st.Codecs,
			ChunkList: st.Chunks,
		})
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
