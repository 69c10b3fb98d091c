package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newVerifyCommand) }

type verifyOptions struct {
	db, name string
	jsonOut  bool
}

// errProblems is returned when verify finds problems, so the command exits
// non-zero after printing them.
var errProblems = errors.New("verify found problems")

func newVerifyCommand() *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify --db DIR [--name NAME] [--json]",
		Short: "Decode and checksum every chunk and check the catalog against the chunks",
		Long: `Verify decodes every chunk of the store (or of array NAME), checks its
checksum and its header against the catalog, and looks for chunks and
coverage bitmaps without an array, chunks outside their grid and
interrupted imports. It prints one line per problem, naming the array and
the chunk coordinates, and exits with status 1 when it finds any.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVerify(cmd, &o) },
	}
	cmd.Flags().StringVar(&o.db, "db", "", "store folder")
	cmd.Flags().StringVar(&o.name, "name", "", "array name (default: the whole store)")
	cmd.Flags().BoolVar(&o.jsonOut, "json", false, "print the problems as JSON")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

func runVerify(cmd *cobra.Command, o *verifyOptions) error {
	db, err := openExisting(o.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	progress, finish := newProgress(cmd, "verify")
	problems, err := db.Verify(o.name, progress)
	finish()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.jsonOut {
		if problems == nil {
			problems = []store.Problem{}
		}
		if err := writeJSON(out, problems); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(out, p)
		}
		if len(problems) == 0 {
			fmt.Fprintln(out, "no problems found")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %d", errProblems, len(problems))
	}
	return nil
}
