package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/particles"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newParticlesCommand) }

func newParticlesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "particles",
		Short: "Import, export and group particle datasets whose FoF groups survive compression",
	}
	cmd.AddCommand(newParticlesImportCommand(), newParticlesExportCommand(), newParticlesFoFCommand())
	return cmd
}

type particlesImportOptions struct {
	db, name, pos, vel, ids, dtype, idsDType, order string
	box, link, bound, velBound                      float64
	periodic, jsonOut                               bool
}

func newParticlesImportCommand() *cobra.Command {
	var o particlesImportOptions
	cmd := &cobra.Command{
		Use:   "import --db DIR --name NAME --pos FILE --box L [--periodic] --link LL --bound B",
		Short: "Import positions (N×3, raw or .npy) and optional velocities and ids as a particle dataset",
		Long: `Import stores a particle dataset whose friends-of-friends groups at linking
length --link come back identical after lossy compression, with every
position coordinate within --bound of the original.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runParticlesImport(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder (created if missing)")
	f.StringVar(&o.name, "name", "", "dataset name")
	f.StringVar(&o.pos, "pos", "", "positions, N×3, raw little-endian or .npy")
	f.StringVar(&o.vel, "vel", "", "velocities, N×3, raw little-endian or .npy")
	f.StringVar(&o.ids, "ids", "", "integer ids, N values, raw little-endian or .npy")
	f.StringVar(&o.dtype, "dtype", "f32", "element type of raw position and velocity files: f32 or f64")
	f.StringVar(&o.idsDType, "ids-dtype", "i64", "element type of a raw ids file: i32, u32, i64, ...")
	f.Float64Var(&o.box, "box", 0, "box edge, in position units")
	f.BoolVar(&o.periodic, "periodic", false, "the box is periodic")
	f.Float64Var(&o.link, "link", 0, "FoF linking length, in position units")
	f.Float64Var(&o.bound, "bound", 0, "absolute error bound of position coordinates")
	f.Float64Var(&o.velBound, "vel-bound", 0, "absolute error bound of velocity components (0: lossless)")
	f.StringVar(&o.order, "order", "auto", "order export returns: original (stores a permutation), stored (Morton order), or auto (original without --ids, stored with them)")
	f.BoolVar(&o.jsonOut, "json", false, "print the dataset metadata as JSON")
	for _, name := range []string{"db", "name", "pos", "box", "link", "bound"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runParticlesImport(cmd *cobra.Command, o *particlesImportOptions) error {
	dtype, err := codecs.ParseDType(o.dtype)
	if err != nil {
		return err
	}
	order, err := particles.ParseOrder(o.order)
	if err != nil {
		return fmt.Errorf("--order: %w", err)
	}
	pos, dtype, err := particles.LoadColumns(o.pos, dtype, 3)
	if err != nil {
		return err
	}
	ds := &particles.Dataset{DType: dtype, X: pos[0], Y: pos[1], Z: pos[2]}
	if o.vel != "" {
		vel, vdtype, err := particles.LoadColumns(o.vel, dtype, 3)
		if err != nil {
			return err
		}
		if vdtype != dtype {
			return fmt.Errorf("%s: velocities are %s but positions are %s", o.vel, vdtype, dtype)
		}
		ds.VX, ds.VY, ds.VZ = vel[0], vel[1], vel[2]
	}
	if o.ids != "" {
		idt, err := codecs.ParseDType(o.idsDType)
		if err != nil {
			return err
		}
		if ds.IDs, err = particles.LoadIDs(o.ids, idt); err != nil {
			return err
		}
	}
	popts := particles.Options{
		Box: o.box, Periodic: o.periodic, Link: o.link, Bound: o.bound, VelocityBound: o.velBound, Order: order,
	}
	if err := popts.Validate(ds); err != nil {
		return fmt.Errorf("write particles %q: %w", o.name, err)
	}
	db, err := store.Open(o.db, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	info, err := particles.Write(db, o.name, ds, popts)
	if err != nil {
		return err
	}
	if o.jsonOut {
		return writeJSON(cmd.OutOrStdout(), info)
	}
	c := info.Correction
	fmt.Fprintf(cmd.OutOrStdout(), "imported %s: %d particles, bound %g, correction: %d pairs, %d particles moved, %d of them exact\n",
		o.name, info.Count, info.Bound, c.Pairs, c.MovedParticles, c.ExactParticles)
	return nil
}

type particlesExportOptions struct {
	db, name, pos, vel, ids string
	noCorrect               bool
}

func newParticlesExportCommand() *cobra.Command {
	var o particlesExportOptions
	cmd := &cobra.Command{
		Use:   "export --db DIR --name NAME --pos OUT [--vel OUT] [--ids OUT] [--no-correct]",
		Short: "Export a particle dataset in its original order as raw or .npy files",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runParticlesExport(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder")
	f.StringVar(&o.name, "name", "", "dataset name")
	f.StringVar(&o.pos, "pos", "", "positions output, N×3 (.npy or raw)")
	f.StringVar(&o.vel, "vel", "", "velocities output, N×3 (.npy or raw)")
	f.StringVar(&o.ids, "ids", "", "ids output, i64 (.npy or raw)")
	f.BoolVar(&o.noCorrect, "no-correct", false, "skip the correction: positions as decoded, groups may differ")
	for _, name := range []string{"db", "name", "pos"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runParticlesExport(cmd *cobra.Command, o *particlesExportOptions) error {
	db, err := openExisting(o.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	ds, info, err := particles.Read(db, o.name, particles.ReadOptions{NoCorrect: o.noCorrect})
	if err != nil {
		return err
	}
	if err := particles.SaveColumns(o.pos, [][]float64{ds.X, ds.Y, ds.Z}, ds.DType); err != nil {
		return err
	}
	if o.vel != "" {
		if !info.Velocities {
			return fmt.Errorf("--vel %s: dataset %q has no velocities", o.vel, o.name)
		}
		if err := particles.SaveColumns(o.vel, [][]float64{ds.VX, ds.VY, ds.VZ}, ds.DType); err != nil {
			return err
		}
	}
	if o.ids != "" {
		if !info.IDs {
			return fmt.Errorf("--ids %s: dataset %q has no ids", o.ids, o.name)
		}
		if err := particles.SaveIDs(o.ids, ds.IDs); err != nil {
			return err
		}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "exported %d particles of %s to %s\n", info.Count, o.name, filepath.Base(o.pos))
	return nil
}

type particlesFoFOptions struct {
	db, name  string
	minSize   int
	top       int
	noCorrect bool
	jsonOut   bool
}

// fofReport is what particles fof --json prints.
type fofReport struct {
	Name      string  `json:"name"`
	Particles int     `json:"particles"`
	Link      float64 `json:"link"`
	Periodic  bool    `json:"periodic"`
	Box       float64 `json:"box"`
	Groups    int     `json:"groups"`
	MinSize   int     `json:"min_size"`
	GroupsMin int     `json:"groups_min_size"`
	Largest   []int   `json:"largest"`
}

func newParticlesFoFCommand() *cobra.Command {
	var o particlesFoFOptions
	cmd := &cobra.Command{
		Use:   "fof --db DIR --name NAME [--min 20] [--json]",
		Short: "Group a stored particle dataset by friends-of-friends at its linking length",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runParticlesFoF(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder")
	f.StringVar(&o.name, "name", "", "dataset name")
	f.IntVar(&o.minSize, "min", 20, "count groups with at least this many members")
	f.IntVar(&o.top, "top", 5, "number of largest group sizes to list")
	f.BoolVar(&o.noCorrect, "no-correct", false, "group the positions as decoded, without the correction")
	f.BoolVar(&o.jsonOut, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("db")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func runParticlesFoF(cmd *cobra.Command, o *particlesFoFOptions) error {
	if o.minSize < 1 || o.top < 0 {
		return fmt.Errorf("--min %d, --top %d: --min must be at least 1 and --top at least 0", o.minSize, o.top)
	}
	db, err := openExisting(o.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	ds, info, err := particles.Read(db, o.name, particles.ReadOptions{NoCorrect: o.noCorrect})
	if err != nil {
		return err
	}
	g, err := particles.FoF(ds.X, ds.Y, ds.Z, particles.Space{Box: info.Box, Periodic: info.Periodic}, info.Link)
	if err != nil {
		return err
	}
	sizes := g.Sizes()
	r := fofReport{
		Name: o.name, Particles: info.Count, Link: info.Link, Periodic: info.Periodic, Box: info.Box,
		Groups: len(sizes), MinSize: o.minSize, GroupsMin: g.CountMin(o.minSize), Largest: sizes[:min(o.top, len(sizes))],
	}
	if o.jsonOut {
		return writeJSON(cmd.OutOrStdout(), r)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d particles, linking length %g, %d groups, %d with >= %d members, largest %v\n",
		r.Name, r.Particles, r.Link, r.Groups, r.GroupsMin, r.MinSize, r.Largest)
	return nil
}

// particlesStat returns the particle summary of name, or nil when name is
// not a particle dataset.
func particlesStat(db *store.DB, name string) (*particles.Stat, error) {
	st, err := particles.StatDataset(db, name)
	if errors.Is(err, particles.ErrNotParticles) {
		return nil, nil
	}
	return st, err
}
