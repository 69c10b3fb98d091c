package codecs_test

import (
	"testing"
	"time"
)

// cpuMeter measures the CPU throughput of a benchmark loop. On a shared
// machine the wall-time MB/s of `go test -bench` drops with the load of other
// processes, while CPU time counts only this process. With -cpu 1 that is
// the codec's own thread plus the garbage collector.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

// startCPUMeter starts the meter; call it right before the timed loop.
func startCPUMeter() cpuMeter {
	start, ok := processCPUTime()
	return cpuMeter{start: start, ok: ok}
}

// report adds the metric cpu-MB/s: bytesPerOp times ops, in 10^6 bytes, per
// CPU second spent since the meter started.
func (m cpuMeter) report(b *testing.B, bytesPerOp int64, ops int) {
	end, ok := processCPUTime()
	if !m.ok || !ok || end <= m.start || ops == 0 {
		return
	}
	b.ReportMetric(float64(bytesPerOp)*float64(ops)/1e6/(end-m.start).Seconds(), "cpu-MB/s")
}
