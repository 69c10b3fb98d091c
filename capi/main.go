// Command capi is the C interface of the epsilon store, built as a shared
// library:
//
//	go build -buildmode=c-shared -o libepsilon.so ./capi
//
// epsilon.h in this folder declares the functions and documents the return
// codes; it is written by hand, and the header that the go tool writes next
// to the library is not meant for users.
//
// Every exported function checks its pointers and lengths, maps errors to
// return codes, stores the message for eps_last_error, and recovers panics,
// so that no input stops the host program. Stores are integer handles in a
// table; no Go pointer is passed to C.
package main

/*
#include <stddef.h>
#include <stdint.h>

void eps_set_error(const char *msg, size_t len);
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// Return codes, as in epsilon.h.
const (
	codeOK          = 0
	codeInvalid     = -1
	codeNotFound    = -2
	codeExists      = -3
	codeClosed      = -4
	codeCorrupt     = -5
	codeWriteBehind = -6
	codeReadOnly    = -7
	codeFailed      = -8
	codeInternal    = -9
)

// Flags of eps_open, as in epsilon.h.
const (
	flagWriteBehind = 1
	flagNoSync      = 2
	flagReadOnly    = 4
)

// maxBytes is the largest buffer the interface accepts, so that a length
// converts to an int and a byte slice safely.
const maxBytes = math.MaxInt32 * 64

// errInvalid marks bad arguments found at the boundary.
var errInvalid = errors.New("invalid argument")

var handles struct {
	sync.Mutex
	next int64
	dbs  map[int64]*store.DB
}

func main() {}

func lookup(h C.int64_t) (*store.DB, error) {
	handles.Lock()
	defer handles.Unlock()
	db, ok := handles.dbs[int64(h)]
	if !ok {
		return nil, fmt.Errorf("%w: handle %d is not an open store", store.ErrClosed, int64(h))
	}
	return db, nil
}

// finish stores the message of err for eps_last_error and returns its code.
func finish(err error) C.int {
	if err == nil {
		return codeOK
	}
	msg := err.Error()
	C.eps_set_error((*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
	return C.int(code(err))
}

func code(err error) int {
	switch {
	case errors.Is(err, errInvalid):
		return codeInvalid
	case errors.Is(err, store.ErrWriteBehind):
		return codeWriteBehind
	case errors.Is(err, store.ErrNotFound):
		return codeNotFound
	case errors.Is(err, store.ErrExists):
		return codeExists
	case errors.Is(err, store.ErrClosed):
		return codeClosed
	case errors.Is(err, store.ErrCorrupt):
		return codeCorrupt
	case errors.Is(err, store.ErrReadOnly):
		return codeReadOnly
	case errors.Is(err, store.ErrInvalidName), errors.Is(err, store.ErrInvalidRegion):
		return codeInvalid
	}
	return codeFailed
}

// call runs fn, turning a panic into codeInternal with its message.
func call(fn func() error) (rc C.int) {
	defer func() {
		if p := recover(); p != nil {
			msg := fmt.Sprintf("internal error (please report): %v\n%s", p, debug.Stack())
			C.eps_set_error((*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
			rc = codeInternal
		}
	}()
	return finish(fn())
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, args...))
}

func goString(s *C.char, what string) (string, error) {
	if s == nil {
		return "", invalid("%s is NULL", what)
	}
	return C.GoString(s), nil
}

// ints copies n int64 values from p.
func ints(p *C.int64_t, n C.int, what string) ([]int, error) {
	if n < 1 || n > chunk.MaxDims {
		return nil, invalid("ndim %d: allowed are 1 to %d", int(n), chunk.MaxDims)
	}
	if p == nil {
		return nil, invalid("%s is NULL", what)
	}
	src := unsafe.Slice((*int64)(unsafe.Pointer(p)), int(n))
	out := make([]int, n)
	for i, v := range src {
		if v < 0 || v > math.MaxInt32*int64(1<<16) {
			return nil, invalid("%s[%d] = %d: allowed are 0 to %d", what, i, v, int64(math.MaxInt32)<<16)
		}
		out[i] = int(v)
	}
	return out, nil
}

// buffer returns the n bytes at p, without copying.
func buffer(p unsafe.Pointer, n C.size_t, what string) ([]byte, error) {
	if uint64(n) > maxBytes {
		return nil, invalid("%s length %d: the maximum is %d bytes", what, uint64(n), uint64(maxBytes))
	}
	if n == 0 {
		return []byte{}, nil
	}
	if p == nil {
		return nil, invalid("%s is NULL with length %d", what, uint64(n))
	}
	return unsafe.Slice((*byte)(p), int(n)), nil
}

func region(ndim C.int, start, count *C.int64_t) (chunk.Region, error) {
	s, err := ints(start, ndim, "start")
	if err != nil {
		return chunk.Region{}, err
	}
	c, err := ints(count, ndim, "count")
	if err != nil {
		return chunk.Region{}, err
	}
	r := chunk.Region{Start: s, Stop: make([]int, len(s))}
	for i := range s {
		r.Stop[i] = s[i] + c[i]
	}
	return r, nil
}

//export eps_open
func eps_open(dir *C.char, flags C.int, maxPendingBytes C.int64_t, out *C.int64_t) C.int {
	return call(func() error {
		path, err := goString(dir, "dir")
		if err != nil {
			return err
		}
		if out == nil {
			return invalid("db (the handle output) is NULL")
		}
		if flags&^(flagWriteBehind|flagNoSync|flagReadOnly) != 0 {
			return invalid("flags %#x: allowed are EPS_WRITE_BEHIND, EPS_NO_SYNC and EPS_READ_ONLY", int(flags))
		}
		if maxPendingBytes < 0 {
			return invalid("max_pending_bytes %d: must be 0 (default) or more", int64(maxPendingBytes))
		}
		db, err := store.Open(path, &store.Options{
			WriteBehind:     flags&flagWriteBehind != 0,
			NoSync:          flags&flagNoSync != 0,
			ReadOnly:        flags&flagReadOnly != 0,
			MaxPendingBytes: int64(maxPendingBytes),
		})
		if err != nil {
			return err
		}
		handles.Lock()
		defer handles.Unlock()
		if handles.dbs == nil {
			handles.dbs = map[int64]*store.DB{}
		}
		handles.next++
		handles.dbs[handles.next] = db
		*out = C.int64_t(handles.next)
		return nil
	})
}

//export eps_close
func eps_close(h C.int64_t) C.int {
	return call(func() error {
		handles.Lock()
		db, ok := handles.dbs[int64(h)]
		delete(handles.dbs, int64(h))
		handles.Unlock()
		if !ok {
			return fmt.Errorf("%w: handle %d is not an open store", store.ErrClosed, int64(h))
		}
		return db.Close()
	})
}

//export eps_create
func eps_create(h C.int64_t, name *C.char, dtype C.int, ndim C.int, shape, chunks *C.int64_t, unlimited C.int, boundMode C.int, bound C.double) C.int {
	return call(func() error {
		db, err := lookup(h)
		if err != nil {
			return err
		}
		n, err := goString(name, "name")
		if err != nil {
			return err
		}
		s, err := ints(shape, ndim, "shape")
		if err != nil {
			return err
		}
		o := store.ArrayOptions{
			DType: codecs.DType(dtype), Shape: s, Unlimited: unlimited != 0,
			Bound: codecs.Bound{Mode: codecs.Mode(boundMode), Value: float64(bound)},
		}
		if dtype < 0 || dtype > 255 || !o.DType.Valid() {
			return invalid("dtype %d: allowed are EPS_F32 (1) to EPS_U64 (10)", int(dtype))
		}
		if boundMode < 0 || boundMode > 255 {
			return invalid("bound_mode %d: allowed are EPS_BOUND_NONE, EPS_BOUND_ABS and EPS_BOUND_REL", int(boundMode))
		}
		if chunks != nil {
			if o.Chunks, err = ints(chunks, ndim, "chunks"); err != nil {
				return err
			}
		}
		if _, err := db.Create(n, o); err != nil {
			if errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrClosed) || errors.Is(err, store.ErrReadOnly) {
				return err
			}
			return fmt.Errorf("%w: %w", errInvalid, err)
		}
		return nil
	})
}

//export eps_append
func eps_append(h C.int64_t, name *C.char, ndim C.int, shape *C.int64_t, data unsafe.Pointer, nbytes C.size_t, first *C.int64_t) C.int {
	return call(func() error {
		db, err := lookup(h)
		if err != nil {
			return err
		}
		n, err := goString(name, "name")
		if err != nil {
			return err
		}
		s, err := ints(shape, ndim, "shape")
		if err != nil {
			return err
		}
		buf, err := buffer(data, nbytes, "data")
		if err != nil {
			return err
		}
		if err := checkRequest(db, n, s, nil, len(buf)); err != nil {
			return err
		}
		r, err := db.Append(n, s, buf)
		if err != nil {
			return err
		}
		if first != nil {
			*first = C.int64_t(r.Start[0])
		}
		return nil
	})
}

//export eps_write
func eps_write(h C.int64_t, name *C.char, ndim C.int, start, count *C.int64_t, data unsafe.Pointer, nbytes C.size_t) C.int {
	return transfer(h, name, ndim, start, count, data, nbytes, "data", func(db *store.DB, n string, r chunk.Region, buf []byte) error {
		return db.Write(n, r, buf)
	})
}

//export eps_read
func eps_read(h C.int64_t, name *C.char, ndim C.int, start, count *C.int64_t, dst unsafe.Pointer, nbytes C.size_t) C.int {
	return transfer(h, name, ndim, start, count, dst, nbytes, "dst", func(db *store.DB, n string, r chunk.Region, buf []byte) error {
		return db.Read(n, r, buf)
	})
}

// transfer checks the arguments of eps_write and eps_read, whose buffer
// argument is named what, and runs op on the region and buffer.
func transfer(h C.int64_t, name *C.char, ndim C.int, start, count *C.int64_t, data unsafe.Pointer, nbytes C.size_t, what string,
	op func(db *store.DB, n string, r chunk.Region, buf []byte) error) C.int {
	return call(func() error {
		db, err := lookup(h)
		if err != nil {
			return err
		}
		n, err := goString(name, "name")
		if err != nil {
			return err
		}
		r, err := region(ndim, start, count)
		if err != nil {
			return err
		}
		buf, err := buffer(data, nbytes, what)
		if err != nil {
			return err
		}
		if err := checkRequest(db, n, nil, &r, len(buf)); err != nil {
			return err
		}
		return op(db, n, r, buf)
	})
}

//export eps_shape
func eps_shape(h C.int64_t, name *C.char, maxNdim C.int, shape *C.int64_t, ndim *C.int, absBound *C.double) C.int {
	return call(func() error {
		db, err := lookup(h)
		if err != nil {
			return err
		}
		n, err := goString(name, "name")
		if err != nil {
			return err
		}
		if shape == nil || ndim == nil {
			return invalid("shape and ndim must not be NULL")
		}
		info, err := db.Info(n)
		if err != nil {
			return err
		}
		if int(maxNdim) < len(info.Shape) {
			return invalid("max_ndim %d: array %q has %d dimensions", int(maxNdim), n, len(info.Shape))
		}
		out := unsafe.Slice((*int64)(unsafe.Pointer(shape)), len(info.Shape))
		for i, d := range info.Shape {
			out[i] = int64(d)
		}
		*ndim = C.int(len(info.Shape))
		if absBound != nil {
			*absBound = C.double(info.AbsBound)
		}
		return nil
	})
}

//export eps_flush
func eps_flush(h C.int64_t) C.int {
	return call(func() error {
		db, err := lookup(h)
		if err != nil {
			return err
		}
		return db.Flush()
	})
}

// checkRequest validates the arguments of a Write, Append or Read of array
// name against its catalog entry, so that bad arguments return
// EPS_ERR_INVALID: shape is the data shape (nil for a region), r the region
// (nil for an append). The store checks them again; this check names the
// problem for C callers. The leading dimension of a region of an unlimited
// array is left to the store, because write-behind appends grow it before
// the catalog shows it.
func checkRequest(db *store.DB, name string, shape []int, r *chunk.Region, nbytes int) error {
	info, err := db.Info(name)
	if err != nil {
		return err
	}
	count := shape
	if r != nil {
		count = r.Shape()
	}
	if len(count) != len(info.Shape) {
		return invalid("array %q has %d dimensions, the call passes ndim %d", name, len(info.Shape), len(count))
	}
	if want := chunk.Shape(count).Count() * info.DType.Size(); want != nbytes {
		return invalid("array %q: buffer has %d bytes, shape %v of %s needs %d", name, nbytes, count, info.DType, want)
	}
	if r == nil {
		if !info.Unlimited {
			return invalid("array %q has the fixed shape %v: create it with unlimited set to append", name, info.Shape)
		}
		if count[0] < 1 || !chunk.Shape(count[1:]).Equal(info.Shape[1:]) {
			return invalid("array %q: data shape %v must be [n>=1 %v]", name, count, info.Shape[1:])
		}
		return nil
	}
	for i := range count {
		if i == 0 && info.Unlimited {
			continue
		}
		if count[i] < 1 || r.Stop[i] > info.Shape[i] {
			return invalid("array %q: region %v is outside the shape %v (dimension %d)", name, *r, info.Shape, i)
		}
	}
	return nil
}
