//go:build !unix

package codecs_test

import "time"

// processCPUTime reports that this platform has no process CPU clock here.
func processCPUTime() (time.Duration, bool) { return 0, false }
