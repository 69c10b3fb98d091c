package store

import (
	"errors"
	"fmt"

	"github.com/epsilon-db/epsilon/chunk"
)

// Append adds values along the leading dimension of an Unlimited array, one
// or more timesteps at a time. shape is the shape of data: shape[0] is the
// number of timesteps (1 or more) and shape[1:] must equal the array's
// trailing dimensions. data is a slice of the array's element type or a
// []byte of raw little-endian values, in C order.
//
// Append returns the region of the array that data now occupies. The
// values and the grown shape are committed in one Pebble batch, so a reader
// sees both or neither. Appends to one array commit in call order. Without
// Options.WriteBehind, Append is durable on return, as Write is. With it,
// Append copies data and returns; see the package documentation.
//
// A chunk that the appended timesteps fill only in part is staged
// losslessly (see coverage.go) and encoded with the array's bound once a
// later Append completes it, so the bound holds for every value whatever
// the chunk extent along the leading dimension.
func (db *DB) Append(name string, shape []int, data any) (chunk.Region, error) {
	if err := db.checkOpen(true); err != nil {
		return chunk.Region{}, err
	}
	if db.wb != nil {
		return db.wb.append(name, shape, data)
	}
	unlock := db.lockArray(name)
	defer unlock()
	info, err := getInfo(db.pdb, name)
	if err != nil {
		return chunk.Region{}, fmt.Errorf("append: %w", err)
	}
	raw, r, err := checkAppend(info, shape, data)
	if err != nil {
		return chunk.Region{}, err
	}
	grown := *info
	grown.Shape = chunk.Shape(info.Shape).Clone()
	grown.Shape[0] = r.Stop[0]
	if err := db.writeLocked(&grown, r, raw, true); err != nil {
		return chunk.Region{}, err
	}
	return r, nil
}

// checkAppend validates an Append of data with the given shape to the array
// that info describes, and returns the bytes of data and the region they
// will occupy.
func checkAppend(info *ArrayInfo, shape []int, data any) ([]byte, chunk.Region, error) {
	fail := func(format string, args ...any) ([]byte, chunk.Region, error) {
		return nil, chunk.Region{}, fmt.Errorf("append to array %q: %s", info.Name, fmt.Sprintf(format, args...))
	}
	if !info.Unlimited {
		return fail("the array has the fixed shape %v: create it with ArrayOptions.Unlimited to append", info.Shape)
	}
	if len(shape) != len(info.Shape) {
		return fail("data shape %v has %d dimensions, the array has %d (shape %v)", shape, len(shape), len(info.Shape), info.Shape)
	}
	if shape[0] < 1 {
		return fail("data shape %v appends %d timesteps, expected 1 or more", shape, shape[0])
	}
	if !chunk.Shape(shape[1:]).Equal(info.Shape[1:]) {
		return fail("data shape %v has trailing dimensions %v, the array's are %v", shape, shape[1:], info.Shape[1:])
	}
	raw, err := bytesOf(data, info.DType)
	if err != nil {
		return fail("%v", err)
	}
	grown := chunk.Shape(info.Shape).Clone()
	grown[0] += shape[0]
	if grown[0] < info.Shape[0] || grown.Validate() != nil || (grown[0]+info.Chunks[0]-1)/info.Chunks[0] > maxChunkCoord {
		return fail("%d more timesteps after %d overflow the leading dimension", shape[0], info.Shape[0])
	}
	if want := chunk.Shape(shape).Count() * info.DType.Size(); len(raw) != want {
		return fail("buffer has %d bytes, data shape %v of %s needs %d", len(raw), shape, info.DType, want)
	}
	r := chunk.Full(grown)
	r.Start[0] = info.Shape[0]
	return raw, r, nil
}

// maxChunkCoord is one more than the largest chunk coordinate that a chunk
// key holds (4 bytes, big-endian).
const maxChunkCoord = 1 << 32

// checkUnlimited validates the shape of an array created with
// ArrayOptions.Unlimited.
func checkUnlimited(shape chunk.Shape) error {
	if len(shape) == 0 {
		return errors.New("unlimited array needs 1 or more dimensions")
	}
	for i, d := range shape[1:] {
		if d < 1 {
			return fmt.Errorf("unlimited array shape %v: trailing dimension %d has size %d, allowed are sizes of 1 or more", []int(shape), i+1, d)
		}
	}
	return nil
}

// unlimitedChunkShape returns the default chunk shape of an Unlimited array:
// the default shape for an array whose leading extent holds about
// targetBytes, so that a chunk spans as many timesteps as fit in a chunk of
// about targetBytes.
func unlimitedChunkShape(shape chunk.Shape, elemSize, targetBytes int) chunk.Shape {
	inner := elemSize
	for _, d := range shape[1:] {
		inner *= max(d, 1)
	}
	probe := shape.Clone()
	probe[0] = max(1, targetBytes/max(inner, 1))
	return chunk.DefaultChunkShape(probe, elemSize, targetBytes)
}
