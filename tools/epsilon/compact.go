package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newCompactCommand) }

type compactOptions struct {
	db, name, mode, codec string
	bound                 float64
	jsonOut               bool
}

func newCompactCommand() *cobra.Command {
	var o compactOptions
	cmd := &cobra.Command{
		Use:   "compact --db DIR [--name NAME --mode abs|rel|none [--bound B] [--codec C]]",
		Short: "Compact the store, or recompress an array to a looser bound or another codec",
		Long: `Without --name, compact runs a Pebble manual compaction over the whole
store, which reclaims the space of deleted and overwritten chunks.

With --name, it recompresses array NAME. The new bound holds against the
original values: an array stored within e1 and recompressed to e2 is
encoded within e2 - e1 of its decoded values. A bound tighter than the
stored one is rejected, because the original values are not kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCompact(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder")
	f.StringVar(&o.name, "name", "", "array to recompress (default: compact the whole store)")
	f.StringVar(&o.mode, "mode", "", "new error mode: abs, rel or none")
	f.Float64Var(&o.bound, "bound", 0, "new error bound for --mode abs or rel")
	f.StringVar(&o.codec, "codec", "", "new codec (default: keep the array's codec)")
	f.BoolVar(&o.jsonOut, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

func runCompact(cmd *cobra.Command, o *compactOptions) error {
	if o.name == "" {
		if o.mode != "" || cmd.Flags().Changed("bound") || o.codec != "" {
			return fmt.Errorf("--mode, --bound and --codec recompress an array and need --name")
		}
		db, err := openExisting(o.db, false)
		if err != nil {
			return err
		}
		defer db.Close()
		before := db.Pebble().Metrics().DiskSpaceUsage()
		if err := db.Compact(cmd.Context()); err != nil {
			return err
		}
		after := db.Pebble().Metrics().DiskSpaceUsage()
		if o.jsonOut {
			return writeJSON(cmd.OutOrStdout(), map[string]uint64{"disk_bytes_before": before, "disk_bytes_after": after})
		}
		fmt.Fprintf(cmd.OutOrStdout(), "compacted %s: %d -> %d bytes on disk\n", o.db, before, after)
		return nil
	}

	mode, err := codecs.ParseMode(o.mode)
	if err != nil {
		return fmt.Errorf("--mode: %w", err)
	}
	if mode != codecs.ModeNone && !cmd.Flags().Changed("bound") {
		return fmt.Errorf("--mode %s needs --bound, a finite number greater than 0", mode)
	}
	bound := codecs.Bound{Mode: mode, Value: o.bound}
	if err := bound.Validate(); err != nil {
		return err
	}
	db, err := openExisting(o.db, false)
	if err != nil {
		return err
	}
	defer db.Close()
	progress, finish := newProgress(cmd, "recompress "+o.name)
	res, err := db.Recompress(o.name, store.RecompressOptions{Bound: bound, Codec: o.codec, Progress: progress})
	finish()
	if err != nil {
		return err
	}
	if o.jsonOut {
		return writeJSON(cmd.OutOrStdout(), res)
	}
	ratio := 0.0
	if res.BytesAfter > 0 {
		ratio = float64(res.BytesBefore) / float64(res.BytesAfter)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "recompressed %s to %s (absolute %g, codec %s): %d chunks re-encoded, %d kept, %d -> %d bytes (%.2fx smaller)\n",
		o.name, bound, res.Info.AbsBound, res.Info.Codec, res.Chunks, res.Skipped, res.BytesBefore, res.BytesAfter, ratio)
	return nil
}
