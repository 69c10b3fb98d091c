package arrowio

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// PutResult is the JSON app metadata of the PutResult that ends a
// successful DoPut.
type PutResult struct {
	Name     string  `json:"name"`
	Rows     int     `json:"rows"`
	AbsBound float64 `json:"abs_bound"`
}

// DoPut creates the array that the descriptor command (PutCommand) names
// and stores the record batches that follow, in the layout DoGet sends:
// rows along the leading dimension, in order, from row 0. The batches must
// cover the whole array. If anything fails, the array is deleted again.
func (s *Server) DoPut(stream flight.FlightService_DoPutServer) (err error) {
	alloc := &limitedAllocator{limit: 2*MaxBatchBytes + 1<<20}
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(errAllocLimit); ok {
				err = status.Error(codes.ResourceExhausted, e.Error())
				return
			}
			panic(p)
		}
	}()
	r, err := flight.NewRecordReader(stream, ipc.WithAllocator(alloc))
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "read DoPut stream: %v", err)
	}
	defer r.Release()
	desc := r.LatestFlightDescriptor()
	if desc == nil || desc.GetType() != flight.DescriptorCMD {
		return status.Error(codes.InvalidArgument, `DoPut needs a CMD descriptor with a command such as {"create": "NAME", "mode": "rel", "bound": 1e-4, "value_range": [min, max]}`)
	}
	cmd, bound, err := ParsePutCommand(desc.GetCmd())
	if err != nil {
		return statusOf(err)
	}
	opts, err := s.putOptions(cmd, bound, r.Schema())
	if err != nil {
		return statusOf(err)
	}
	info, err := s.db.Create(cmd.Create, opts)
	if err != nil {
		return statusOf(err)
	}
	rows, err := s.putRows(info, r)
	if err != nil {
		if derr := s.db.Delete(cmd.Create); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove partly written array: %w", derr))
		}
		return statusOf(err)
	}
	if info, err = s.db.Info(cmd.Create); err != nil {
		return statusOf(err)
	}
	meta, _ := json.Marshal(PutResult{Name: cmd.Create, Rows: rows, AbsBound: info.AbsBound})
	return stream.Send(&flight.PutResult{AppMetadata: meta})
}

// putOptions derives the array to create from the command and the schema
// of the stream.
func (s *Server) putOptions(cmd PutCommand, bound codecs.Bound, schema *arrow.Schema) (store.ArrayOptions, error) {
	o := store.ArrayOptions{Codec: cmd.Codec, Chunks: cmd.Chunks, Bound: bound, Fill: cmd.Fill, ValueRange: cmd.ValueRange, Attrs: cmd.Attrs}
	if schema.NumFields() != 1 || schema.Field(0).Name != DataColumn {
		return o, fmt.Errorf("%w: schema has %d fields, expected one field %q", ErrInvalidRequest, schema.NumFields(), DataColumn)
	}
	value := schema.Field(0).Type
	var rowShape []int
	switch t := value.(type) {
	case *TensorType:
		rowShape, value = t.Shape(), t.ValueType()
	case *arrow.FixedSizeListType:
		rowShape, value = []int{int(t.Len())}, t.Elem()
	}
	dtype, err := DTypeOf(value)
	if err != nil {
		return o, err
	}
	o.DType = dtype
	o.Shape = cmd.Shape
	if o.Shape == nil {
		text, ok := schema.Metadata().GetValue(MetaShape)
		if !ok {
			return o, fmt.Errorf(`%w: the shape is missing: put "shape" in the command or %q in the schema metadata`, ErrInvalidRequest, MetaShape)
		}
		if err := decodeStrict([]byte(text), &o.Shape); err != nil || len(o.Shape) > maxDims {
			return o, fmt.Errorf("%w: schema metadata %s %.80q: expected a JSON list of at most %d sizes", ErrInvalidRequest, MetaShape, text, maxDims)
		}
		if err := chunk.Shape(o.Shape).Validate(); err != nil {
			return o, fmt.Errorf("%w: %s: %v", ErrInvalidRequest, MetaShape, err)
		}
	}
	trailing := chunk.Shape(o.Shape[1:])
	switch {
	case rowShape == nil && len(o.Shape) != 1:
		return o, fmt.Errorf("%w: a plain %s column carries a one-dimensional array, the shape is %v", ErrInvalidRequest, value, o.Shape)
	case rowShape != nil && len(rowShape) == 1 && schema.Field(0).Type.ID() == arrow.FIXED_SIZE_LIST:
		if rowShape[0] != trailing.Count() || len(o.Shape) < 2 {
			return o, fmt.Errorf("%w: lists of %d values, shape %v needs %d per row", ErrInvalidRequest, rowShape[0], o.Shape, trailing.Count())
		}
	case rowShape != nil && !trailing.Equal(rowShape):
		return o, fmt.Errorf("%w: tensors of shape %v, shape %v needs %v per row", ErrInvalidRequest, rowShape, o.Shape, []int(trailing))
	}
	total := int64(dtype.Size())
	for _, d := range o.Shape {
		if total > s.opts.MaxRegionBytes/int64(d) {
			return o, fmt.Errorf("%w: shape %v of %s is more than the server limit of %d bytes", ErrTooLarge, o.Shape, dtype, s.opts.MaxRegionBytes)
		}
		total *= int64(d)
	}
	return o, nil
}

// putRows stores the batches of r into info, buffering rows into slabs of
// whole chunks along the leading dimension so that chunks are encoded once.
func (s *Server) putRows(info *store.ArrayInfo, r *flight.Reader) (int, error) {
	l := LayoutOf(info, chunk.Full(info.Shape))
	rowBytes := l.RowBytes()
	if rowBytes > MaxBatchBytes {
		return 0, fmt.Errorf("%w: one row of shape %v is %d bytes, more than the batch limit %d", ErrTooLarge, info.Shape, rowBytes, MaxBatchBytes)
	}
	extent := int64(info.Chunks[0])
	slabRows := MaxBatchBytes / rowBytes
	if extent*rowBytes <= MaxBatchBytes {
		slabRows = extent * max(1, s.opts.BatchBytes/(extent*rowBytes))
	}
	slabRows = min(slabRows, int64(info.Shape[0]))
	buf := make([]byte, 0, slabRows*rowBytes)
	next := 0 // first row of buf
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		n := len(buf) / int(rowBytes)
		region := chunk.Full(info.Shape)
		region.Start[0], region.Stop[0] = next, next+n
		if err := s.db.Write(info.Name, region, buf); err != nil {
			return err
		}
		next += n
		buf = buf[:0]
		return nil
	}
	rowShape := info.Shape[1:]
	for r.Next() {
		raw, err := RecordValues(r.RecordBatch(), info.DType, rowShape)
		if err != nil {
			return 0, err
		}
		if got := next + len(buf)/int(rowBytes) + len(raw)/int(rowBytes); got > info.Shape[0] {
			return 0, fmt.Errorf("%w: the batches hold more than the %d rows of shape %v", ErrInvalidRequest, info.Shape[0], info.Shape)
		}
		for len(raw) > 0 {
			n := copy(buf[len(buf):cap(buf)], raw)
			buf, raw = buf[:len(buf)+n], raw[n:]
			if len(buf) == cap(buf) {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
	}
	if err := r.Err(); err != nil {
		return 0, fmt.Errorf("%w: read DoPut stream: %v", ErrInvalidRequest, err)
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if next != info.Shape[0] {
		return 0, fmt.Errorf("%w: the batches hold %d rows, shape %v needs %d", ErrInvalidRequest, next, info.Shape, info.Shape[0])
	}
	return next, nil
}

// errAllocLimit is the panic value of limitedAllocator.
type errAllocLimit struct{ size, limit int64 }

func (e errAllocLimit) Error() string {
	return fmt.Sprintf("a message needs %d more bytes than the per-stream limit of %d bytes: send smaller batches", e.size, e.limit)
}

// limitedAllocator is the Go allocator with a cap on the bytes allocated
// and not yet freed. The IPC reader trusts the sizes in message headers
// (the uncompressed length of a compressed body, say), so without the cap
// a small message could make the server allocate gigabytes. Over the cap it
// panics with errAllocLimit, which DoPut recovers.
type limitedAllocator struct {
	inUse atomic.Int64
	limit int64
}

func (a *limitedAllocator) Allocate(size int) []byte {
	if a.inUse.Add(int64(size)) > a.limit {
		a.inUse.Add(-int64(size))
		panic(errAllocLimit{size: int64(size), limit: a.limit})
	}
	return memory.DefaultAllocator.Allocate(size)
}

func (a *limitedAllocator) Reallocate(size int, b []byte) []byte {
	if a.inUse.Add(int64(size-len(b))) > a.limit {
		a.inUse.Add(-int64(size - len(b)))
		panic(errAllocLimit{size: int64(size), limit: a.limit})
	}
	return memory.DefaultAllocator.Reallocate(size, b)
}

func (a *limitedAllocator) Free(b []byte) {
	a.inUse.Add(-int64(len(b)))
	memory.DefaultAllocator.Free(b)
}
