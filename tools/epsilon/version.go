package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/gpuaccel"
	"github.com/epsilon-db/epsilon/store"
)

func init() { register(newVersionCommand) }

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build, the formats it reads and writes, and whether a GPU was found",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			version := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				version = bi.Main.Version
			}
			fmt.Fprintf(out, "epsilon %s, %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(out, "store format %d, stream format %d, codecs %v\n", store.FormatVersion, codecs.FormatVersion, codecs.Names())
			if info, err := gpuaccel.Probe(); err != nil {
				fmt.Fprintf(out, "gpu: none (%v)\n", firstLine(err.Error()))
			} else {
				fmt.Fprintf(out, "gpu: %s, compute capability %d.%d, %d multiprocessors, %.1f GiB, %.0f GB/s peak memory bandwidth\n",
					info.Name, info.ComputeMajor, info.ComputeMinor, info.Multiprocs, float64(info.TotalMemory)/(1<<30), info.PeakBandwidth/1e9)
				if err := gpuaccel.Available(); err != nil {
					fmt.Fprintf(out, "gpu kernels: unavailable, chunks are coded on the CPU (%v)\n", firstLine(err.Error()))
				} else {
					fmt.Fprintln(out, "gpu kernels: ready")
				}
			}
			return nil
		},
	}
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
