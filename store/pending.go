package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// An import commits its chunks in several batches, so a crash in the middle
// would leave part of an array behind. Import therefore keeps the catalog
// entry of the new array under a pending key (pendingKey) while it writes
// the chunks, and publishes it in one last batch that sets the catalog key
// and deletes the pending one. Until then reads, List and Stat do not see
// the array. Open deletes every pending import it finds, with its chunks,
// because no import can be running while the store was closed.

// createPending allocates an array ID for name and records the import as
// pending. It fails with ErrExists when the array or another import of the
// same name exists.
func (db *DB) createPending(name string, o ArrayOptions) (*ArrayInfo, error) {
	return db.addArray("import", name, o, pendingKey)
}

// checkNameFreeLocked returns ErrExists when name has a catalog entry or a
// pending import. The caller holds catalogMu.
func (db *DB) checkNameFreeLocked(name string) error {
	if _, err := getInfo(db.pdb, name); err == nil {
		return ErrExists
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	_, closer, err := db.pdb.Get(pendingKey(name))
	switch {
	case err == nil:
		closer.Close()
		return fmt.Errorf("%w: an import of this name is in progress", ErrExists)
	case !errors.Is(err, pebble.ErrNotFound):
		return err
	}
	return nil
}

// publishPending makes a pending import visible: one batch sets the catalog
// entry and deletes the pending record.
func (db *DB) publishPending(info *ArrayInfo) error {
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := setInfo(b, info); err != nil {
		return err
	}
	if err := b.Delete(pendingKey(info.Name), nil); err != nil {
		return err
	}
	return db.commit(b)
}

// dropPending deletes a pending import and every chunk it wrote.
func (db *DB) dropPending(info *ArrayInfo) error {
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	return db.dropPendingLocked(info.Name, info.ID)
}

func (db *DB) dropPendingLocked(name string, id uint64) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := deleteArrayData(b, id); err != nil {
		return err
	}
	if err := b.Delete(pendingKey(name), nil); err != nil {
		return err
	}
	if err := db.commit(b); err != nil {
		return fmt.Errorf("remove partly imported array %q: %w", name, err)
	}
	return nil
}

// deleteArrayData adds the deletion of every chunk and coverage bitmap of
// array id to b.
func deleteArrayData(b *pebble.Batch, id uint64) error {
	lo, hi := chunkBounds(id)
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return err
	}
	lo, hi = coverageBounds(id)
	return b.DeleteRange(lo, hi, nil)
}

// dropPendingImports deletes the imports a crash interrupted, with their
// chunks, and reports each to the logger.
func (db *DB) dropPendingImports() error {
	pending, err := listPending(db.pdb)
	if err != nil {
		return fmt.Errorf("open store %s: %w", db.dir, err)
	}
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	for _, p := range pending {
		if err := db.dropPendingLocked(p.Name, p.ID); err != nil {
			return fmt.Errorf("open store %s: %w", db.dir, err)
		}
		db.opts.Logger.Infof("store: removed interrupted import of array %q (id %d)", p.Name, p.ID)
	}
	return nil
}

// pendingImport is the name and array ID of an import in progress.
type pendingImport struct {
	Name string
	ID   uint64
}

// listPending returns the pending imports in r. A record that does not
// decode still yields its name and, when readable, its ID.
func listPending(r reader) ([]pendingImport, error) {
	lo, hi := pendingBounds()
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []pendingImport
	for valid := it.First(); valid; valid = it.Next() {
		name := string(it.Key()[len(lo):])
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		info, err := decodeInfo(name, v)
		if err != nil {
			return nil, fmt.Errorf("pending import of %q: %w", name, err)
		}
		out = append(out, pendingImport{Name: name, ID: info.ID})
	}
	return out, it.Error()
}

func encodeInfo(info *ArrayInfo) ([]byte, error) {
	v, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("array %q: encode catalog entry: %w", info.Name, err)
	}
	return v, nil
}
