package main

import (
	"encoding/json"
	"io"

	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "epsilon",
		Short:         "An embedded store for scientific arrays with error-bounded lossy compression",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newImportCommand(),
		newExportCommand(),
		newLsCommand(),
		newInspectCommand(),
		newDemoCommand(),
	)
	return root
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
