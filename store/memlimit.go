package store

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The Go collector lets the heap grow to (1 + GOGC/100) times the bytes
// live after the last collection before it collects again. The buffers of a
// write-behind pipeline are live, so by that rule alone the heap could grow
// to about twice MaxPendingBytes before the garbage that remains (Pebble's
// batches, the codecs' temporary buffers, the application's own) is
// collected. While a
// DB with write-behind is open, the store therefore sets the runtime's soft
// memory limit (debug.SetMemoryLimit) to
//
//	runtime + (1 + GOGC/100) * application + sum of MaxPendingBytes + memLimitSlack
//
// where application is the live heap after the last collection less the
// bytes the pipelines hold, and runtime is the memory of the Go runtime
// outside the heap (stacks, metadata). The application's own heap keeps
// the headroom GOGC gives it, and only the pipelines are held to their cap.
// So the limit stays above the live heap by at least memLimitSlack, and the
// collector does not run back to back, unless the pipelines hold more than
// their caps (a single call whose encoded chunks pass the cap, or the
// staged chunks, which the cap leaves out). The limit is computed again
// after every committed call, and removed when the last such DB closes.
//
// The store leaves the limit alone when the application set one (GOMEMLIMIT
// or debug.SetMemoryLimit) or turned the collector off (GOGC=off).
//
// NOTE: an application whose live heap grows by more than GOGC allows
// between two write-behind calls collects more often than GOGC alone would
// make it, until the next call computes the limit again.

// memLimitSlack is the room above the pipelines' caps for the garbage a
// commit leaves: the Pebble batch of a call, which copies its encoded
// chunks, and the coverage bitmaps of staged chunks.
const memLimitSlack = 64 << 20

// memLimiter is the process-wide state of the memory limit.
var memLimiter struct {
	mu sync.Mutex
	// pipelines holds the open write-behind pipelines.
	pipelines map[*writeBehind]struct{}
	// set is the limit the store last set, or 0 when the store set none.
	set int64
}

var memLimitSamples = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/gc/gogc:percent"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
}

// registerMemoryLimit adds wb to the pipelines that the limit covers.
func registerMemoryLimit(wb *writeBehind) {
	memLimiter.mu.Lock()
	defer memLimiter.mu.Unlock()
	if memLimiter.pipelines == nil {
		memLimiter.pipelines = map[*writeBehind]struct{}{}
	}
	memLimiter.pipelines[wb] = struct{}{}
	updateMemoryLimitLocked()
}

// unregisterMemoryLimit removes wb, and the store's limit with the last
// pipeline.
func unregisterMemoryLimit(wb *writeBehind) {
	memLimiter.mu.Lock()
	defer memLimiter.mu.Unlock()
	delete(memLimiter.pipelines, wb)
	if len(memLimiter.pipelines) > 0 {
		updateMemoryLimitLocked()
		return
	}
	if memLimiter.set != 0 && debug.SetMemoryLimit(-1) == memLimiter.set {
		debug.SetMemoryLimit(math.MaxInt64)
	}
	memLimiter.set = 0
}

// updateMemoryLimit computes the limit again.
func updateMemoryLimit() {
	memLimiter.mu.Lock()
	defer memLimiter.mu.Unlock()
	updateMemoryLimitLocked()
}

func updateMemoryLimitLocked() {
	cur := debug.SetMemoryLimit(-1)
	if cur != math.MaxInt64 && cur != memLimiter.set {
		return // the application's limit
	}
	var caps, held int64
	for wb := range memLimiter.pipelines {
		caps += wb.maxPending
		held += wb.heldBytes()
	}
	s := memLimitSamples
	metrics.Read(s)
	gogc := int64(s[1].Value.Uint64())
	if s[1].Value.Kind() != metrics.KindUint64 || gogc <= 0 {
		// GOGC=off: the application chose to grow the heap freely.
		return
	}
	live := int64(s[0].Value.Uint64())
	total := int64(s[2].Value.Uint64()) - int64(s[3].Value.Uint64())
	heap := int64(s[4].Value.Uint64() + s[5].Value.Uint64() + s[6].Value.Uint64())
	application := max(0, live-held)
	limit := max(0, total-heap) + application + application*gogc/100 + caps + memLimitSlack
	debug.SetMemoryLimit(limit)
	memLimiter.set = limit
}
