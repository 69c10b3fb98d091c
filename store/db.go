package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/codecs"
)

// FormatVersion is the version of the key layout and catalog encoding that
// this package writes. Open rejects stores of any other version.
const FormatVersion = 1

// Errors that callers match with errors.Is. Returned errors wrap them with
// the array name and, for chunks, the chunk coordinates.
var (
	ErrNotFound    = errors.New("not found")
	ErrExists      = errors.New("already exists")
	ErrInvalidName = errors.New("invalid array name")
	// ErrInvalidRegion marks a region of a Read or Write that does not fit
	// in the array's current shape.
	ErrInvalidRegion = errors.New("invalid region")
	// ErrCorrupt marks a chunk or catalog entry that fails to verify. It is
	// the same sentinel as codecs.ErrCorrupt.
	ErrCorrupt  = codecs.ErrCorrupt
	ErrClosed   = errors.New("store is closed")
	ErrReadOnly = errors.New("store is read-only")
)

// DB is an epsilon store: arrays of chunks kept in a Pebble database.
//
// A DB is safe for concurrent use. Reads see a consistent snapshot and run
// in parallel with writes. Writes to different arrays run in parallel;
// writes to the same array are serialized by a per-array lock.
type DB struct {
	pdb   *pebble.DB
	dir   string
	opts  Options
	wopts *pebble.WriteOptions
	// device is the codecs device that encodes and decodes chunks ("gpu"),
	// or "" for the CPU; see resolveDevice.
	device string
	// wb is the write-behind pipeline, nil unless Options.WriteBehind.
	wb *writeBehind

	// catalogMu serializes changes to the catalog (create, delete, and the
	// range update of a ModeRel array) and the allocation of array IDs.
	catalogMu sync.Mutex

	mu struct {
		sync.Mutex
		closed bool
		// failed is the error that failed the store (see ErrFailed).
		failed error
		// arrays holds one write lock per array name.
		arrays map[string]*sync.Mutex
		// policies holds the bound policy of arrays that have one.
		policies map[string]BoundPolicy
	}
}

// Open opens or creates the store in dir. opts may be nil.
func Open(dir string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	cache := pebble.NewCache(o.CacheBytes)
	defer cache.Unref()
	popts := &pebble.Options{
		Cache:              cache,
		ReadOnly:           o.ReadOnly,
		Logger:             pebbleLogger{o.Logger},
		FormatMajorVersion: pebble.FormatNewest,
		FS:                 o.FS,
		// Pebble's default handler of a failed block checksum calls
		// Logger.Fatalf; the store reports it and lets the read fail.
		EventListener: &pebble.EventListener{DataCorruption: func(info pebble.DataCorruptionInfo) {
			o.Logger.Errorf("store: %s", info)
			if f := o.Events.Corruption; f != nil {
				f(CorruptionInfo{Err: fmt.Errorf("%w: %s", ErrCorrupt, info)})
			}
		}},
	}
	// Chunk values are compressed streams already, so Pebble's block
	// compression would spend CPU time to save a few bytes of keys.
	popts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	device, err := resolveDevice(o.Device)
	if err != nil {
		return nil, err
	}
	pdb, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	db := &DB{pdb: pdb, dir: dir, opts: o, wopts: pebble.Sync, device: device}
	if o.NoSync {
		db.wopts = pebble.NoSync
	}
	db.mu.arrays = map[string]*sync.Mutex{}
	if err := db.checkFormat(); err != nil {
		pdb.Close()
		return nil, err
	}
	if !o.ReadOnly {
		if err := db.dropPendingImports(); err != nil {
			pdb.Close()
			return nil, err
		}
	}
	if o.WriteBehind {
		db.wb = newWriteBehind(db)
	}
	return db, nil
}

// checkFormat writes the format version into a new store and checks it in
// an existing one.
func (db *DB) checkFormat() error {
	v, closer, err := db.pdb.Get(keyFormatVersion)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if db.opts.ReadOnly {
			return fmt.Errorf("open store %s: %w: not an epsilon store (no format version)", db.dir, ErrCorrupt)
		}
		return db.pdb.Set(keyFormatVersion, binary.AppendUvarint(nil, FormatVersion), pebble.Sync)
	case err != nil:
		return fmt.Errorf("open store %s: %w", db.dir, err)
	}
	defer closer.Close()
	got, n := binary.Uvarint(v)
	if n <= 0 {
		return fmt.Errorf("open store %s: %w: unreadable format version %x", db.dir, ErrCorrupt, v)
	}
	if got != FormatVersion {
		return fmt.Errorf("open store %s: store format version %d, this build reads version %d", db.dir, got, FormatVersion)
	}
	return nil
}

// Close flushes the memtables to sstables and closes the store. Calls made after Close return ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.mu.closed = true
	failed := db.mu.failed
	db.mu.Unlock()
	var wbErr error
	if db.wb != nil {
		wbErr = db.wb.close()
	}
	if !db.opts.ReadOnly && failed == nil {
		// Flushing moves the write-ahead log into sstables, whose blocks
		// carry checksums. Pebble reads a damaged record at the end of the
		// newest log as a torn write and drops it without an error, so a
		// store left with its data in the log could lose acknowledged
		// writes to one flipped bit.
		if err := db.pdb.Flush(); err != nil {
			db.opts.Logger.Errorf("store: flush on close: %v", err)
		}
	}
	return errors.Join(wbErr, db.pdb.Close())
}

// Dir returns the folder of the store.
func (db *DB) Dir() string { return db.dir }

// Pebble returns the underlying Pebble database, for admin tools.
func (db *DB) Pebble() *pebble.DB { return db.pdb }

func (db *DB) checkOpen(write bool) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return ErrClosed
	}
	if write && db.opts.ReadOnly {
		return ErrReadOnly
	}
	if write && db.mu.failed != nil {
		return db.mu.failed
	}
	return nil
}

// lockArray takes the write lock of an array and returns its release.
func (db *DB) lockArray(name string) func() {
	db.mu.Lock()
	l, ok := db.mu.arrays[name]
	if !ok {
		l = &sync.Mutex{}
		db.mu.arrays[name] = l
	}
	db.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// readErr wraps err, returned by Pebble while reading array name, so that
// damage Pebble finds on disk matches ErrCorrupt as a damaged chunk does.
func readErr(name string, err error) error {
	if pebble.IsCorruptionError(err) {
		return fmt.Errorf("array %q: %w: %w", name, ErrCorrupt, err)
	}
	return fmt.Errorf("array %q: %w", name, err)
}

// reader is the read interface shared by *pebble.DB and *pebble.Snapshot.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// getInfo reads the catalog entry of name from r.
func getInfo(r reader, name string) (*ArrayInfo, error) {
	v, closer, err := r.Get(catalogKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("array %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, readErr(name, fmt.Errorf("read catalog: %w", err))
	}
	defer closer.Close()
	return decodeInfo(name, v)
}

func decodeInfo(name string, v []byte) (*ArrayInfo, error) {
	info := &ArrayInfo{}
	if err := json.Unmarshal(v, info); err != nil {
		return nil, fmt.Errorf("array %q: %w: catalog entry: %v", name, ErrCorrupt, err)
	}
	if info.Name != name {
		return nil, fmt.Errorf("array %q: %w: catalog entry names %q", name, ErrCorrupt, info.Name)
	}
	o := ArrayOptions{DType: info.DType, Shape: info.Shape, Chunks: info.Chunks, Codec: info.Codec, Bound: info.ErrorBound(), TimeAxis: info.TimeAxis, KeyInterval: info.KeyInterval, Unlimited: info.Unlimited}
	if _, err := newArrayInfo(name, &o, defaultChunkBytes); err != nil {
		return nil, fmt.Errorf("array %q: %w: catalog entry: %v", name, ErrCorrupt, err)
	}
	return info, nil
}

// Create adds an empty array. Reads of chunks never written return the fill
// value, or zero without one.
func (db *DB) Create(name string, o ArrayOptions) (*ArrayInfo, error) {
	if err := db.checkOpen(true); err != nil {
		return nil, err
	}
	return db.addArray("create", name, o, catalogKey)
}

// addArray validates o, allocates an array ID and writes the entry of name
// under key(name) in one batch: the catalog key for Create, the pending key
// for Import. op names the operation in errors.
func (db *DB) addArray(op, name string, o ArrayOptions, key func(string) []byte) (*ArrayInfo, error) {
	info, err := newArrayInfo(name, &o, db.opts.ChunkBytes)
	if err != nil {
		return nil, fmt.Errorf("%s array %q: %w", op, name, err)
	}
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	if err := db.checkNameFreeLocked(name); err != nil {
		return nil, fmt.Errorf("%s array %q: %w", op, name, err)
	}
	id, err := db.nextIDLocked()
	if err != nil {
		return nil, err
	}
	info.ID = id

	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.Set(keyNextID, binary.BigEndian.AppendUint64(nil, id+1), nil); err != nil {
		return nil, err
	}
	v, err := encodeInfo(info)
	if err != nil {
		return nil, err
	}
	if err := b.Set(key(name), v, nil); err != nil {
		return nil, err
	}
	if err := db.commit(b); err != nil {
		return nil, fmt.Errorf("%s array %q: %w", op, name, err)
	}
	return info, nil
}

func setInfo(b *pebble.Batch, info *ArrayInfo) error {
	v, err := encodeInfo(info)
	if err != nil {
		return err
	}
	return b.Set(catalogKey(info.Name), v, nil)
}
func (db *DB) nextIDLocked() (uint64, error) {
	v, closer, err := db.pdb.Get(keyNextID)
	if errors.Is(err, pebble.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: next array id has %d bytes, expected 8", ErrCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Info returns the catalog entry of an array.
func (db *DB) Info(name string) (*ArrayInfo, error) {
	if err := db.checkOpen(false); err != nil {
		return nil, err
	}
	return getInfo(db.pdb, name)
}

// List returns the catalog entries of all arrays, sorted by name.
func (db *DB) List() ([]*ArrayInfo, error) {
	if err := db.checkOpen(false); err != nil {
		return nil, err
	}
	lo, hi := catalogBounds()
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*ArrayInfo
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		info, err := decodeInfo(string(it.Key()[1:]), v)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes an array and all its chunks in one atomic batch.
func (db *DB) Delete(name string) error {
	if err := db.checkOpen(true); err != nil {
		return err
	}
	if db.wb != nil {
		resume, err := db.wb.pause()
		if err != nil {
			return fmt.Errorf("delete array %q: %w", name, err)
		}
		defer resume()
		db.wb.forget(name)
	}
	unlock := db.lockArray(name)
	defer unlock()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	info, err := getInfo(db.pdb, name)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	lo, hi := chunkBounds(info.ID)
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return err
	}
	lo, hi = coverageBounds(info.ID)
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return err
	}
	if err := b.Delete(catalogKey(name), nil); err != nil {
		return err
	}
	if err := db.commit(b); err != nil {
		return fmt.Errorf("delete array %q: %w", name, err)
	}
	return nil
}
