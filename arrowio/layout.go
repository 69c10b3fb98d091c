package arrowio

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// Schema metadata keys. Values are strings; shapes and regions are JSON.
const (
	MetaName     = "epsilon.name"
	MetaDType    = "epsilon.dtype"     // numpy spelling: "float32", "int64", ...
	MetaShape    = "epsilon.shape"     // full array shape, JSON list
	MetaChunks   = "epsilon.chunks"    // chunk shape, JSON list
	MetaRegion   = "epsilon.region"    // JSON list of [start, stop] pairs
	MetaCodec    = "epsilon.codec"     // codec name
	MetaMode     = "epsilon.mode"      // error mode: none, abs or rel
	MetaBound    = "epsilon.bound"     // bound as stated with the mode
	MetaAbsBound = "epsilon.abs_bound" // absolute bound every value is within
	MetaFill     = "epsilon.fill"      // fill value, when the array has one
)

// DataColumn is the name of the column that carries the values.
const DataColumn = "data"

// Layout describes how a region of an array maps to Arrow record batches:
// one row per index along the leading dimension of the region. An array of
// two or more dimensions has one column "data" of TensorType whose tensor
// shape is the region's trailing dimensions; a one-dimensional array has a
// plain column "data" of the element type.
type Layout struct {
	Name     string
	DType    codecs.DType
	Shape    []int
	Chunks   []int
	Region   chunk.Region
	Codec    string
	Bound    codecs.Bound
	AbsBound float64
	Fill     *float64
}

// LayoutOf returns the layout of region r of the array info describes.
func LayoutOf(info *store.ArrayInfo, r chunk.Region) Layout {
	return Layout{
		Name: info.Name, DType: info.DType, Shape: info.Shape, Chunks: info.Chunks, Region: r,
		Codec: info.Codec, Bound: info.ErrorBound(), AbsBound: info.AbsBound, Fill: info.Fill,
	}
}

// Rows returns the number of rows (records) of the region.
func (l Layout) Rows() int { return l.Region.Stop[0] - l.Region.Start[0] }

// RowValues returns the number of values in one row.
func (l Layout) RowValues() int { return l.Region.Shape()[1:].Count() }

// RowBytes returns the size of one row in bytes.
func (l Layout) RowBytes() int64 { return int64(l.RowValues()) * int64(l.DType.Size()) }

// Bytes returns the decoded size of the region in bytes.
func (l Layout) Bytes() int64 { return int64(l.Rows()) * l.RowBytes() }

// DataType returns the type of the data column.
func (l Layout) DataType() (arrow.DataType, error) {
	value, err := ArrowType(l.DType)
	if err != nil {
		return nil, err
	}
	if len(l.Region.Start) == 1 {
		return value, nil
	}
	return NewTensorType(value, l.Region.Shape()[1:])
}

// Schema returns the Arrow schema of the layout, with the array's
// description in the schema metadata (see the Meta constants).
func (l Layout) Schema() (*arrow.Schema, error) {
	dt, err := l.DataType()
	if err != nil {
		return nil, err
	}
	keys := []string{MetaName, MetaDType, MetaShape, MetaChunks, MetaRegion, MetaCodec, MetaMode, MetaBound, MetaAbsBound}
	values := []string{
		l.Name, NumpyName(l.DType), jsonString(l.Shape), jsonString(l.Chunks), jsonString(RegionPairs(l.Region)),
		l.Codec, l.Bound.Mode.String(), strconv.FormatFloat(l.Bound.Value, 'g', -1, 64), strconv.FormatFloat(l.AbsBound, 'g', -1, 64),
	}
	if l.Fill != nil {
		keys = append(keys, MetaFill)
		values = append(values, strconv.FormatFloat(*l.Fill, 'g', -1, 64))
	}
	md := arrow.NewMetadata(keys, values)
	return arrow.NewSchema([]arrow.Field{{Name: DataColumn, Type: dt}}, &md), nil
}

// NewRecord wraps raw, the little-endian values of rows whole rows of the
// layout in C order, as a record batch of schema without copying. raw must
// stay unchanged until the record is released.
//
// NOTE: Arrow buffers are in the host's byte order, so this is correct only
// on little-endian hosts, which are all the hosts Go's arrow-go supports.
func NewRecord(schema *arrow.Schema, rows int, raw []byte) (arrow.RecordBatch, error) {
	buf := memory.NewBufferBytes(raw)
	defer buf.Release()
	return newRecord(schema, rows, buf)
}

// newRecord is NewRecord on a buffer, which the record retains.
func newRecord(schema *arrow.Schema, rows int, buf *memory.Buffer) (arrow.RecordBatch, error) {
	raw := buf.Bytes()
	field := schema.Field(0)
	valueType := field.Type
	tensor, isTensor := field.Type.(*TensorType)
	perRow := 1
	if isTensor {
		valueType = tensor.ValueType()
		perRow = int(tensor.StorageType().(*arrow.FixedSizeListType).Len())
	}
	width := valueType.(arrow.FixedWidthDataType).Bytes()
	if want := rows * perRow * width; len(raw) != want {
		return nil, fmt.Errorf("record of %d rows of %d %s values needs %d bytes, got %d", rows, perRow, valueType, want, len(raw))
	}
	values := array.NewData(valueType, rows*perRow, []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer values.Release()
	if !isTensor {
		col := array.MakeFromData(values)
		defer col.Release()
		return array.NewRecordBatch(schema, []arrow.Array{col}, int64(rows)), nil
	}
	list := array.NewData(tensor.StorageType(), rows, []*memory.Buffer{nil}, []arrow.ArrayData{values}, 0, 0)
	defer list.Release()
	storage := array.MakeFromData(list)
	defer storage.Release()
	col := array.NewExtensionArrayWithStorage(tensor, storage)
	defer col.Release()
	return array.NewRecordBatch(schema, []arrow.Array{col}, int64(rows)), nil
}

// RecordValues returns the raw little-endian values of the data column of
// rec, without copying, and checks that it carries elements of dtype with
// rowShape per row (rowShape is empty for a one-dimensional array). The
// column may be a TensorType, a plain fixed_size_list or, for an empty
// rowShape, a primitive column. Columns with nulls are rejected.
func RecordValues(rec arrow.RecordBatch, dtype codecs.DType, rowShape []int) ([]byte, error) {
	if rec.NumCols() != 1 || rec.ColumnName(0) != DataColumn {
		return nil, fmt.Errorf("%w: record has columns %v, expected one column %q", ErrInvalidRequest, columnNames(rec), DataColumn)
	}
	want, err := ArrowType(dtype)
	if err != nil {
		return nil, err
	}
	col := rec.Column(0)
	if col.NullN() > 0 {
		return nil, fmt.Errorf("%w: column %q has %d nulls; nulls cannot be stored", ErrInvalidRequest, DataColumn, col.NullN())
	}
	if ext, ok := col.(array.ExtensionArray); ok {
		if t, ok := ext.ExtensionType().(*TensorType); ok && !intsEqual(t.shape, rowShape) {
			return nil, fmt.Errorf("%w: tensors of shape %v, the array needs %v per row", ErrInvalidRequest, t.shape, rowShape)
		}
		col = ext.Storage()
	}
	perRow := chunk.Shape(rowShape).Count()
	var values arrow.Array
	offset := 0
	switch c := col.(type) {
	case *array.FixedSizeList:
		if c.DataType().(*arrow.FixedSizeListType).Len() != int32(perRow) || len(rowShape) == 0 {
			return nil, fmt.Errorf("%w: list of %d values per row, the array needs %d (shape %v)", ErrInvalidRequest, c.DataType().(*arrow.FixedSizeListType).Len(), perRow, rowShape)
		}
		values = c.ListValues()
		offset = c.Data().Offset() * perRow
	default:
		if len(rowShape) != 0 {
			return nil, fmt.Errorf("%w: column of type %s, an array of row shape %v needs %s tensors", ErrInvalidRequest, col.DataType(), rowShape, TensorExtensionName)
		}
		values = col
	}
	if !arrow.TypeEqual(values.DataType(), want) {
		return nil, fmt.Errorf("%w: values of type %s, the array holds %s", ErrInvalidRequest, values.DataType(), want)
	}
	if values.NullN() > 0 {
		return nil, fmt.Errorf("%w: %d null values; nulls cannot be stored", ErrInvalidRequest, values.NullN())
	}
	width := int(dtype.Size())
	start := (values.Data().Offset() + offset) * width
	n := rec.NumRows() * int64(perRow) * int64(width)
	buf := values.Data().Buffers()[1]
	if buf == nil || int64(buf.Len()) < int64(start)+n {
		return nil, fmt.Errorf("%w: value buffer holds %d bytes, %d rows need %d", ErrInvalidRequest, bufLen(buf), rec.NumRows(), int64(start)+n)
	}
	return buf.Bytes()[start : int64(start)+n], nil
}

func bufLen(b *memory.Buffer) int {
	if b == nil {
		return 0
	}
	return b.Len()
}

func columnNames(rec arrow.RecordBatch) []string {
	names := make([]string, rec.NumCols())
	for i := range names {
		names[i] = rec.ColumnName(i)
	}
	return names
}

func intsEqual(a, b []int) bool { return chunk.Shape(a).Equal(b) }

// ArrowType returns the Arrow type of dtype.
func ArrowType(dtype codecs.DType) (arrow.DataType, error) {
	switch dtype {
	case codecs.Float32:
		return arrow.PrimitiveTypes.Float32, nil
	case codecs.Float64:
		return arrow.PrimitiveTypes.Float64, nil
	case codecs.Int8:
		return arrow.PrimitiveTypes.Int8, nil
	case codecs.Int16:
		return arrow.PrimitiveTypes.Int16, nil
	case codecs.Int32:
		return arrow.PrimitiveTypes.Int32, nil
	case codecs.Int64:
		return arrow.PrimitiveTypes.Int64, nil
	case codecs.Uint8:
		return arrow.PrimitiveTypes.Uint8, nil
	case codecs.Uint16:
		return arrow.PrimitiveTypes.Uint16, nil
	case codecs.Uint32:
		return arrow.PrimitiveTypes.Uint32, nil
	case codecs.Uint64:
		return arrow.PrimitiveTypes.Uint64, nil
	}
	return nil, fmt.Errorf("dtype %d has no Arrow type", uint8(dtype))
}

// DTypeOf returns the dtype of an Arrow primitive type.
func DTypeOf(t arrow.DataType) (codecs.DType, error) {
	for _, d := range []codecs.DType{codecs.Float32, codecs.Float64, codecs.Int8, codecs.Int16, codecs.Int32, codecs.Int64, codecs.Uint8, codecs.Uint16, codecs.Uint32, codecs.Uint64} {
		if at, _ := ArrowType(d); arrow.TypeEqual(at, t) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%w: Arrow type %s cannot be stored: allowed are float32, float64 and the signed and unsigned integers of 8 to 64 bits", ErrInvalidRequest, t)
}

// NumpyName returns the numpy name of dtype, such as "float32".
func NumpyName(d codecs.DType) string {
	switch d {
	case codecs.Float32:
		return "float32"
	case codecs.Float64:
		return "float64"
	}
	// Integer names are "i16" -> "int16", "u8" -> "uint8".
	s := d.String()
	if s[0] == 'u' {
		return "uint" + s[1:]
	}
	return "int" + s[1:]
}

// RegionPairs returns r as [start, stop] pairs, the form tickets use.
func RegionPairs(r chunk.Region) [][]int {
	pairs := make([][]int, len(r.Start))
	for i := range pairs {
		pairs[i] = []int{r.Start[i], r.Stop[i]}
	}
	return pairs
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("arrowio: marshal %T: %v", v, err))
	}
	return string(b)
}
