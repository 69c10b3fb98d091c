package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/arrowio"
	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/internal/npy"
	"github.com/epsilon-db/epsilon/particles"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newExportCommand) }

type exportOptions struct {
	db, name, region, device string
	arrow                    string
	group                    bool
}

func newExportCommand() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export --db DIR --name NAME [--region 2:5,10:100,7:250] [--arrow OUT.arrow] [OUT]",
		Short: "Export an array or a region of it as a raw little-endian C-order file or an .npy file",
		Long: `Export decodes array NAME, or the region of it that --region selects, into OUT.

OUT is an .npy file when its name ends in .npy and headerless raw values
otherwise. A region lists one range per dimension: a:b, a:, :b, : or a
single index. The array is written chunk by chunk and never held whole in
memory.

--arrow writes an Arrow IPC file: one row per index along the leading
dimension, a column "data" of arrow.fixed_shape_tensor (a plain column for
one-dimensional arrays), and the array's description in the schema
metadata.

When NAME is a particle dataset, --arrow writes one row per particle in
the original order: columns x, y, z (corrected positions), then vx, vy,
vz, id and the attributes when the dataset has them, and with --group an
int64 column "group" with friends-of-friends labels at the dataset's
linking length (the smallest particle index of each group).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && o.arrow == "" {
				return fmt.Errorf("give an output file OUT, --arrow OUT.arrow, or both")
			}
			if o.arrow != "" {
				if err := runExportArrow(cmd, &o); err != nil {
					return err
				}
			}
			if len(args) == 0 {
				return nil
			}
			return runExport(cmd, &o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder")
	f.StringVar(&o.name, "name", "", "array name")
	f.StringVar(&o.region, "region", "", "region to export (default: the whole array)")
	f.StringVar(&o.arrow, "arrow", "", "also write the region as an Arrow IPC file to this path")
	f.StringVar(&o.device, "device", store.DeviceAuto, "where chunks are decoded: auto (a GPU when one is usable), cpu or gpu (fail without one)")
	f.BoolVar(&o.group, "group", false, "with --arrow and a particle dataset, add the friends-of-friends group of each particle")
	_ = cmd.MarkFlagRequired("db")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func runExport(cmd *cobra.Command, o *exportOptions, path string) error {
	db, err := openExistingWith(o.db, &store.Options{ReadOnly: true, Device: o.device})
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
	// The values go to a temporary file beside OUT that replaces it only
	// when complete, so a failed export leaves an existing OUT as it was.
	out, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	size := int64(len(header)) + int64(region.Count())*int64(info.DType.Size())
	if _, err = out.Write(header); err == nil {
		err = out.Truncate(size)
	}
	if err == nil {
		progress, finish := newProgress(cmd, "export "+o.name)
		err = db.Export(o.name, region, out, int64(len(header)), progress)
		finish()
	}
	if err == nil {
		err = out.Chmod(0o644)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), path)
	}
	if err != nil {
		os.Remove(out.Name())
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "exported %s region %v (%d values of %s) to %s\n", o.name, region, region.Count(), info.DType, path)
	return nil
}

func runExportArrow(cmd *cobra.Command, o *exportOptions) error {
	db, err := openExisting(o.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	info, err := db.Info(o.name)
	if err != nil {
		return err
	}
	pinfo, err := particles.Open(db, o.name)
	isParticles := err == nil
	if err != nil && !errors.Is(err, particles.ErrNotParticles) {
		return err
	}
	if isParticles && o.region != "" {
		return fmt.Errorf("--region %q: %q is a particle dataset, which is exported whole", o.region, o.name)
	}
	if !isParticles && o.group {
		return fmt.Errorf("--group: %q is an array, not a particle dataset", o.name)
	}
	region, err := chunk.ParseRegion(o.region, info.Shape)
	if err != nil {
		return err
	}
	out, err := os.Create(o.arrow)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	if isParticles {
		err = arrowio.WriteParticlesFile(cmd.Context(), arrowio.StoreParticles{DB: db}, o.name, o.group, w, 16<<20)
	} else {
		err = arrowio.WriteFile(cmd.Context(), db, arrowio.LayoutOf(info, region), w, 16<<20)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(o.arrow)
		return err
	}
	if isParticles {
		fmt.Fprintf(cmd.OutOrStdout(), "exported particle dataset %s (%d particles) to Arrow file %s\n", o.name, pinfo.Count, o.arrow)
		return nil
	}
	fmt.Fprintf(cmd.OutOrStdout(), "exported %s region %v (%d values of %s) to Arrow file %s\n", o.name, region, region.Count(), info.DType, o.arrow)
	return nil
}

// openExisting opens the store in dir, which must already exist, so that a
// mistyped --db does not create an empty store.
func openExisting(dir string, readOnly bool) (*store.DB, error) {
	return openExistingWith(dir, &store.Options{ReadOnly: readOnly})
}

// openExistingWith is openExisting with the given options.
func openExistingWith(dir string, opts *store.Options) (*store.DB, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("store %s is not a directory: --db takes the folder of a store", dir)
	}
	return store.Open(dir, opts)
}
