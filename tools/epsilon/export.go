package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/internal/npy"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newExportCommand) }

type exportOptions struct {
	db, name, region string
}

func newExportCommand() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export --db DIR --name NAME [--region 2:5,10:100,7:250] OUT",
		Short: "Export an array or a region of it as a raw little-endian C-order file or an .npy file",
		Long: `Export decodes array NAME, or the region of it that --region selects, into OUT.

OUT is an .npy file when its name ends in .npy and headerless raw values
otherwise. A region lists one range per dimension: a:b, a:, :b, : or a
single index. The array is written chunk by chunk and never held whole in
memory.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runExport(cmd, &o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder")
	f.StringVar(&o.name, "name", "", "array name")
	f.StringVar(&o.region, "region", "", "region to export (default: the whole array)")
	_ = cmd.MarkFlagRequired("db")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func runExport(cmd *cobra.Command, o *exportOptions, path string) error {
	db, err := openExisting(o.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	info, err := db.Info(o.name)
	if err != nil {
		return err
	}
	region, err := chunk.ParseRegion(o.region, info.Shape)
	if err != nil {
		return err
	}
	var header []byte
	if strings.HasSuffix(strings.ToLower(path), ".npy") {
		if header, err = npy.AppendHeader(nil, info.DType, region.Shape()); err != nil {
			return err
		}
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	size := int64(len(header)) + int64(region.Count())*int64(info.DType.Size())
	if _, err := out.Write(header); err == nil {
		err = out.Truncate(size)
	}
	if err == nil {
		progress, finish := newProgress(cmd, "export "+o.name)
		err = db.Export(o.name, region, out, int64(len(header)), progress)
		finish()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "exported %s region %v (%d values of %s) to %s\n", o.name, region, region.Count(), info.DType, path)
	return nil
}

// openExisting opens the store in dir, which must already exist, so that a
// mistyped --db does not create an empty store.
func openExisting(dir string, readOnly bool) (*store.DB, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	return store.Open(dir, &store.Options{ReadOnly: readOnly})
}
