package store

import (
	"context"
	"time"
)

// Compact runs a Pebble manual compaction over the whole key space, which
// drops deleted and overwritten chunks from disk and rewrites the sstables
// into the bottom levels. It reports a CompactionFinished event.
func (db *DB) Compact(ctx context.Context) error {
	if err := db.checkOpen(true); err != nil {
		return err
	}
	start := time.Now()
	before := liveTableBytes(db)
	err := db.pdb.Compact(ctx, []byte{prefixMeta}, []byte{0xff}, true)
	if f := db.opts.Events.CompactionFinished; f != nil {
		f(CompactionInfo{BytesBefore: before, BytesAfter: liveTableBytes(db), Duration: time.Since(start), Err: err})
	}
	if err != nil {
		db.opts.Logger.Errorf("store: manual compaction failed: %v", err)
		return err
	}
	return nil
}

// liveTableBytes returns the bytes of the sstables in all levels.
func liveTableBytes(db *DB) int64 {
	m := db.pdb.Metrics()
	var n int64
	for _, l := range m.Levels {
		n += l.TablesSize
	}
	return n
}
