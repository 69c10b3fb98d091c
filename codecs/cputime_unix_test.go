//go:build unix

package codecs_test

import (
	"syscall"
	"time"
)

// processCPUTime returns the user plus system CPU time of this process.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
