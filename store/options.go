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
	// WriteBehind makes Write and Append return once the values are copied,
	// while encoding and committing go on in the background. Flush waits
	// for them and makes them durable. See the package documentation for
	// the guarantees. Default: Write and Append are durable on return.
	WriteBehind bool
	// MaxPendingBytes caps the memory that write-behind calls hold in
	// flight: copied values not yet encoded and encoded chunks not yet
	// committed. A call blocks while the cap is reached. Default 256 MiB.
	// With WriteBehind, the store also sets the Go runtime's soft memory
	// limit from it unless the application set one; see the package
	// documentation.
	MaxPendingBytes int64
	// Events receives notifications; nil fields are skipped.
	Events EventListener
	// Logger receives the messages of the store and of Pebble. Default:
	// discard them.
	Logger Logger
	// Device selects where chunks are encoded and decoded: DeviceAuto (the
	// default) uses a GPU for the codecs that have a GPU implementation
	// when one is usable and the CPU otherwise, DeviceCPU always uses the
	// CPU, and DeviceGPU makes Open fail when no GPU is usable. A GPU
	// implementation is registered by importing package gpuaccel.
	Device string
	// FS is the file system Pebble uses. Default: the operating system's.
	// Tests set a fault-injecting or in-memory one.
	FS vfs.FS
}

// Values of Options.Device.
const (
	DeviceAuto = "auto"
	DeviceCPU  = "cpu"
	DeviceGPU  = "gpu"
)

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

const (
	defaultChunkBytes      = 1 << 20
	defaultMaxPendingBytes = 256 << 20
)

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
	if o.Device == "" {
		o.Device = DeviceAuto
	}
	if o.MaxPendingBytes == 0 {
		o.MaxPendingBytes = defaultMaxPendingBytes
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
	switch o.Device {
	case DeviceAuto, DeviceCPU, DeviceGPU:
	default:
		errs = append(errs, fmt.Errorf("Options.Device %q: allowed are %q, %q and %q", o.Device, DeviceAuto, DeviceCPU, DeviceGPU))
	}
	if o.MaxPendingBytes < 0 {
		errs = append(errs, fmt.Errorf("Options.MaxPendingBytes %d: must not be negative", o.MaxPendingBytes))
	}
	if o.WriteBehind && o.ReadOnly {
		errs = append(errs, errors.New("Options.WriteBehind and Options.ReadOnly are both set: a read-only store takes no writes"))
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
