package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newLsCommand) }

type lsOptions struct {
	db      string
	jsonOut bool
}

func newLsCommand() *cobra.Command {
	var o lsOptions
	cmd := &cobra.Command{
		Use:   "ls --db DIR [--json]",
		Short: "List the arrays of a store",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runLs(cmd, &o) },
	}
	cmd.Flags().StringVar(&o.db, "db", "", "store folder")
	cmd.Flags().BoolVar(&o.jsonOut, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

func runLs(cmd *cobra.Command, o *lsOptions) error {
	db, err := openExisting(o.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	arrays, err := db.List()
	if err != nil {
		return err
	}
	if o.jsonOut {
		if arrays == nil {
			arrays = []*store.ArrayInfo{}
		}
		return writeJSON(cmd.OutOrStdout(), arrays)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tDTYPE\tSHAPE\tCHUNKS\tCODEC\tBOUND")
	for _, a := range arrays {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.DType, chunk.Shape(a.Shape), chunk.Shape(a.Chunks), a.Codec, a.ErrorBound())
	}
	return w.Flush()
}
