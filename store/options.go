package store

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configures a DB. The zero value (or nil) selects every default.
type Options struct {
	// ChunkBytes is the target raw size of a default chunk. Default 1 MiB.
	ChunkBytes int
	// Concurrency is the number of goroutines that encode or decode chunks
	// for one call. Default GOMAXPROCS.
	Concurrency int
	// CacheBytes is the size of Pebble's block cache. Default 64 MiB.
	CacheBytes int64
	// ReadOnly opens the store without the right to change it.
	ReadOnly bool
	// NoSync commits writes without waiting for the write-ahead log to reach
	// stable storage. A crash may then lose acknowledged writes; only tests
	// and throwaway stores should set it.
	NoSync bool
	// Events receives notifications; nil fields are skipped.
	Events EventListener
	// Logger receives the messages of the store and of Pebble. Default:
	// discard them.
	Logger Logger
	// FS is the file system Pebble uses. Default: the operating system's.
	// Tests set a fault-injecting or in-memory one.
	FS vfs.FS
}

// Logger is the sink for the store's log messages.
type Logger interface {
	Infof(format string, args ...any)
	Errorf(format string, args ...any)
}

// EventListener holds callbacks for store events. Callbacks run on the
// goroutine that caused the event and must not call back into the DB.
type EventListener struct {
	// ChunksWritten is called after a batch of chunks is committed.
	ChunksWritten func(ChunksWrittenInfo)
	// Corruption is called when a chunk fails to verify or decode.
	Corruption func(CorruptionInfo)
	// CompactionFinished is called after a manual compaction (DB.Compact)
	// or a recompression (DB.Recompress) ends, with or without an error.
	CompactionFinished func(CompactionInfo)
}

// CompactionInfo describes a finished DB.Compact or DB.Recompress.
type CompactionInfo struct {
	// Array is the recompressed array, or "" for a compaction of the whole
	// key space.
	Array string
	// Chunks counts the chunks rewritten by a recompression.
	Chunks int
	// BytesBefore and BytesAfter are the stored bytes before and after: the
	// live sstable bytes for a compaction, the chunk bytes for a
	// recompression.
	BytesBefore, BytesAfter int64
	Duration                time.Duration
	Err                     error
}

// ChunksWrittenInfo describes one committed batch of chunks.
type ChunksWrittenInfo struct {
	Array       string
	Chunks      int
	RawBytes    int64
	StoredBytes int64
}

// CorruptionInfo names a chunk that failed to verify.
type CorruptionInfo struct {
	// Array is "" for damage that Pebble found in one of its files, such as
	// a failed sstable block checksum; Err then names the file.
	Array  string
	Coords []int
	Err    error
}

const defaultChunkBytes = 1 << 20

// ensureDefaults fills zero fields with their defaults.
func (o *Options) ensureDefaults() {
	if o.ChunkBytes == 0 {
		o.ChunkBytes = defaultChunkBytes
	}
	if o.Concurrency == 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = discardLogger{}
	}
}

// validate returns every invalid field in one error.
func (o *Options) validate() error {
	var errs []error
	if o.ChunkBytes < 1 || o.ChunkBytes > 256<<20 {
		errs = append(errs, fmt.Errorf("Options.ChunkBytes %d: allowed are 1 to %d", o.ChunkBytes, 256<<20))
	}
	if o.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("Options.Concurrency %d: must be at least 1", o.Concurrency))
	}
	if o.CacheBytes < 0 {
		errs = append(errs, fmt.Errorf("Options.CacheBytes %d: must not be negative", o.CacheBytes))
	}
	return errors.Join(errs...)
}

type discardLogger struct{}

func (discardLogger) Infof(string, ...any)  {}
func (discardLogger) Errorf(string, ...any) {}

// pebbleLogger forwards Pebble's messages to a Logger.
type pebbleLogger struct{ l Logger }

func (p pebbleLogger) Infof(format string, args ...any)  { p.l.Infof(format, args...) }
func (p pebbleLogger) Errorf(format string, args ...any) { p.l.Errorf(format, args...) }
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Errorf(format, args...)
	panic(newFatalError(format, args))
}
