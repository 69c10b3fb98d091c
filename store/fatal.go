package store

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// ErrFailed marks a store whose Pebble commit pipeline failed, after a
// write-ahead log write or sync error (a full disk, say). Pebble cannot
// commit again after that: writes return ErrFailed until the store is
// closed and opened again, while reads of committed data go on.
var ErrFailed = errors.New("store failed: close and reopen it")

// fatalError is what pebbleLogger.Fatalf panics with, so that commit can
// tell Pebble's fatal errors from other panics.
type fatalError struct {
	msg string
	err error // the first error among Fatalf's arguments, if any
}

func newFatalError(format string, args []any) fatalError {
	fe := fatalError{msg: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if err, ok := a.(error); ok {
			fe.err = err
			break
		}
	}
	return fe
}

// commit commits b with the store's write options. A fatal Pebble error
// during the commit becomes an error wrapping ErrFailed (and the cause)
// instead of a panic, and fails the store for later writes.
func (db *DB) commit(b *pebble.Batch) error { return db.commitWith(b, db.wopts) }

// commitWith is commit with the given write options.
func (db *DB) commitWith(b *pebble.Batch, wopts *pebble.WriteOptions) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fe, ok := r.(fatalError)
		if !ok {
			panic(r)
		}
		err = fmt.Errorf("%w: %s", ErrFailed, fe.msg)
		if fe.err != nil {
			err = fmt.Errorf("%w: %w", ErrFailed, fe.err)
		}
		db.mu.Lock()
		if db.mu.failed == nil {
			db.mu.failed = err
		}
		db.mu.Unlock()
		db.opts.Logger.Errorf("store: %v", err)
	}()
	return b.Commit(wopts)
}
