package faultinject

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
)

// Outcome classifies what a damaged store did when it was opened and read.
type Outcome string

// Outcomes, from best to worst. Wrong and Panicked are failures: a value
// outside its bound returned without an error, or a panic.
const (
	// Correct: every array read back within its bound.
	Correct Outcome = "correct"
	// DetectedOpen: Open returned an error.
	DetectedOpen Outcome = "detected on open"
	// DetectedRead: a read returned an error (a checksum failure wrapping
	// store.ErrCorrupt, or a Pebble corruption error).
	DetectedRead Outcome = "detected on read"
	// Lost: an array is no longer listed (its catalog entry or the write
	// that created it is gone) and reads return store.ErrNotFound.
	Lost Outcome = "lost (not found)"
	// Wrong: a read returned values outside their bound without an error.
	Wrong Outcome = "silently wrong"
	// Panicked: opening or reading panicked.
	Panicked Outcome = "panic"
)

// Expected is an array a store should hold: its original values and bound.
type Expected struct {
	Name  string
	Shape []int
	Data  []float32
	Bound float64
}

// Check opens the store in dir, reads every expected array whole, compares
// it with its original values, and returns the worst outcome with a detail
// message. It recovers panics and reports them as Panicked.
func Check(dir string, want []Expected, opts *store.Options) (out Outcome, detail string) {
	defer func() {
		if r := recover(); r != nil {
			out, detail = Panicked, fmt.Sprint(r)
		}
	}()
	db, err := store.Open(dir, opts)
	if err != nil {
		return DetectedOpen, err.Error()
	}
	defer db.Close()
	out = Correct
	rank := map[Outcome]int{Correct: 0, DetectedRead: 1, Lost: 2, Wrong: 3}
	worse := func(o Outcome, d string) {
		if rank[o] > rank[out] {
			out, detail = o, d
		}
	}
	for _, w := range want {
		got := make([]float32, len(w.Data))
		err := db.Read(w.Name, chunk.Full(w.Shape), got)
		switch {
		case errors.Is(err, store.ErrNotFound):
			worse(Lost, err.Error())
		case err != nil:
			if !errors.Is(err, store.ErrCorrupt) && !pebble.IsCorruptionError(err) {
				err = fmt.Errorf("error without a corruption mark: %w", err)
			}
			worse(DetectedRead, err.Error())
		default:
			if s := qos.Compare(w.Data, got, w.Bound, nil); !s.OK() {
				worse(Wrong, fmt.Sprintf("array %q: %v", w.Name, s.Err()))
			}
		}
	}
	return out, detail
}
