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
	for _, newCommand := range commands {
		root.AddCommand(newCommand())
	}
	return root
}

// commands holds the constructors of the subcommands. Each command's file
// adds its constructor in an init function, so commands can be added
// without editing this file.
var commands []func() *cobra.Command

func register(newCommand func() *cobra.Command) { commands = append(commands, newCommand) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
