// Command epsilon is the command line of the epsilon store: import and
// export arrays, list and inspect a store, and run the demo on the real
// data set.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "epsilon:", err)
		os.Exit(1)
	}
}
