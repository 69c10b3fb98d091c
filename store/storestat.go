package store

import "fmt"

// StoreStat is the storage summary of a whole store: its arrays and the
// state of the Pebble database under them.
type StoreStat struct {
	Arrays      []ArrayStat `json:"arrays"`
	RawBytes    int64       `json:"raw_bytes"`
	StoredBytes int64       `json:"stored_bytes"`
	// Ratio is RawBytes / StoredBytes over all arrays, or 0 when nothing is
	// stored.
	Ratio float64 `json:"ratio"`
	// Codecs counts stored chunks by codec over all arrays.
	Codecs map[string]int `json:"codecs"`
	// Levels lists the LSM levels L0 to L6.
	Levels []LevelStat `json:"levels"`
	// WAL describes the write-ahead log.
	WAL WALStat `json:"wal"`
	// MemTableBytes is the size of the memtables not yet flushed.
	MemTableBytes uint64 `json:"memtable_bytes"`
	// DiskBytes is Pebble's estimate of the disk space it uses.
	DiskBytes uint64 `json:"disk_bytes"`
}

// LevelStat describes one LSM level.
type LevelStat struct {
	Level int   `json:"level"`
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
	// Sublevels is the read amplification of the level (only L0 has more
	// than one).
	Sublevels int32 `json:"sublevels"`
}

// WALStat describes the write-ahead log.
type WALStat struct {
	Files int64  `json:"files"`
	Bytes uint64 `json:"bytes"`
	// BytesIn counts the logical bytes written to the log since Open, and
	// BytesWritten the physical bytes, framing included.
	BytesIn      uint64 `json:"bytes_in"`
	BytesWritten uint64 `json:"bytes_written"`
}

// StoreStat returns the summary of every array (as Stat, without the
// per-chunk list) and Pebble's levels, files and write-ahead log.
func (db *DB) StoreStat() (*StoreStat, error) {
	infos, err := db.List()
	if err != nil {
		return nil, err
	}
	st := &StoreStat{Codecs: map[string]int{}}
	for _, info := range infos {
		a, err := db.Stat(info.Name)
		if err != nil {
			return nil, fmt.Errorf("store stat: %w", err)
		}
		a.Chunks = nil
		st.Arrays = append(st.Arrays, *a)
		st.RawBytes += a.RawBytes
		st.StoredBytes += a.StoredBytes
		for c, n := range a.Codecs {
			st.Codecs[c] += n
		}
	}
	if st.StoredBytes > 0 {
		st.Ratio = float64(st.RawBytes) / float64(st.StoredBytes)
	}
	m := db.pdb.Metrics()
	for i, l := range m.Levels {
		st.Levels = append(st.Levels, LevelStat{Level: i, Files: l.TablesCount, Bytes: l.TablesSize, Sublevels: l.Sublevels})
	}
	st.WAL = WALStat{Files: m.WAL.Files, Bytes: m.WAL.PhysicalSize, BytesIn: m.WAL.BytesIn, BytesWritten: m.WAL.BytesWritten}
	st.MemTableBytes = m.MemTable.Size
	st.DiskBytes = m.DiskSpaceUsage()
	return st, nil
}
