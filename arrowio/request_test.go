package arrowio_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/arrowio"
	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/store"
)

func FuzzParseTicket(f *testing.F) {
	for _, s := range []string{
		`{"array": "TS"}`,
		`{"array": "TS", "region": [[0, 5], [0, 192], [0, 288]]}`,
		`{"particles": "halo", "group": true}`,
		`{"array": "TS", "region": [[0]]}`,
		`{"array": "TS", "region": [[-1, 2147483648000]]}`,
		`{"array": 5}`, `[]`, `null`, `{"array": "a"}{"array": "b"}`, ``,
	} {
		f.Add([]byte(s))
	}
	shape := []int{10, 192, 288}
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := arrowio.ParseTicket(b)
		if err != nil {
			if !errors.Is(err, arrowio.ErrInvalidRequest) {
				t.Fatalf("ParseTicket(%q) error %v does not wrap ErrInvalidRequest", b, err)
			}
			return
		}
		if (tk.Array == "") == (tk.Particles == "") {
			t.Fatalf("ParseTicket(%q) accepted %+v, which names not exactly one of array and particles", b, tk)
		}
		r, err := tk.RegionIn(shape)
		if err != nil {
			if !errors.Is(err, arrowio.ErrInvalidRequest) {
				t.Fatalf("RegionIn error %v does not wrap ErrInvalidRequest", err)
			}
			return
		}
		if err := r.ValidateIn(shape); err != nil {
			t.Fatalf("RegionIn returned region %v outside %v: %v", r, shape, err)
		}
	})
}

func FuzzParsePutCommand(f *testing.F) {
	for _, s := range []string{
		`{"create": "TS", "mode": "rel", "bound": 1e-4, "value_range": [0, 1]}`,
		`{"create": "T", "mode": "abs", "bound": 0.01, "codec": "lorenzo", "chunks": [1, 64, 128], "shape": [14, 64, 128], "fill": 1e35}`,
		`{"create": "T", "mode": "none"}`,
		`{"create": "T", "mode": "abs", "bound": 1e999}`,
		`{"create": "T", "mode": "rel", "bound": 1e-4, "value_range": [2, 1]}`,
		`{"create": "T", "mode": "abs", "bound": 1, "shape": [0]}`,
		`{"create": "T", "mode": "abs", "bound": 1, "attrs": {"units": "K"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, bound, err := arrowio.ParsePutCommand(b)
		if err != nil {
			if !errors.Is(err, arrowio.ErrInvalidRequest) {
				t.Fatalf("ParsePutCommand(%q) error %v does not wrap ErrInvalidRequest", b, err)
			}
			return
		}
		if c.Create == "" {
			t.Fatalf("ParsePutCommand(%q) accepted a command without a name", b)
		}
		if err := bound.Validate(); err != nil {
			t.Fatalf("ParsePutCommand(%q) accepted invalid bound: %v", b, err)
		}
		if c.Shape != nil {
			if err := chunk.Shape(c.Shape).Validate(); err != nil {
				t.Fatalf("ParsePutCommand(%q) accepted invalid shape: %v", b, err)
			}
		}
	})
}

func TestTensorTypeIPCRoundTrip(t *testing.T) {
	raw := make([]byte, 6*4*8)
	for i := range raw {
		raw[i] = byte(i)
	}
	l := arrowio.Layout{Name: "x", DType: codecs.Float64, Shape: []int{6, 2, 2}, Chunks: []int{2, 2, 2}, Region: chunk.Full([]int{6, 2, 2})}
	schema, err := l.Schema()
	require.NoError(t, err)
	rec, err := arrowio.NewRecord(schema, 6, raw)
	require.NoError(t, err)
	defer rec.Release()

	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	r, err := ipc.NewReader(&buf)
	require.NoError(t, err)
	defer r.Release()
	require.True(t, r.Next())
	got := r.RecordBatch()
	tt, ok := got.Schema().Field(0).Type.(*arrowio.TensorType)
	require.True(t, ok, "read back type %s", got.Schema().Field(0).Type)
	assert.Equal(t, []int{2, 2}, tt.Shape())
	assert.Equal(t, `{"shape":[2,2]}`, tt.Serialize())
	values, err := arrowio.RecordValues(got, codecs.Float64, []int{2, 2})
	require.NoError(t, err)
	assert.Equal(t, raw, values)
	_, err = arrowio.RecordValues(got, codecs.Float32, []int{2, 2})
	assert.ErrorIs(t, err, arrowio.ErrInvalidRequest, "wrong dtype")
	_, err = arrowio.RecordValues(got, codecs.Float64, []int{4})
	assert.ErrorIs(t, err, arrowio.ErrInvalidRequest, "wrong row shape")
}

func TestTensorTypeRejectsPermutation(t *testing.T) {
	tt, err := arrowio.NewTensorType(arrow.PrimitiveTypes.Float32, []int{2, 3})
	require.NoError(t, err)
	_, err = tt.Deserialize(tt.StorageType(), `{"shape": [2, 3], "permutation": [1, 0]}`)
	assert.Error(t, err)
	_, err = tt.Deserialize(tt.StorageType(), `{"shape": [2, 4]}`)
	assert.Error(t, err, "shape that does not match the list length")
}

func TestSlabsAlignToChunks(t *testing.T) {
	l := arrowio.Layout{Name: "a", DType: codecs.Float32, Shape: []int{100, 10}, Chunks: []int{7, 10}, Region: chunk.Region{Start: []int{3, 0}, Stop: []int{95, 10}}}
	slabs, err := arrowio.Slabs(l, 20*40) // 20 rows of 40 bytes
	require.NoError(t, err)
	next := 3
	for i, s := range slabs {
		assert.Equal(t, next, s.Start[0], "slab %d start", i)
		assert.LessOrEqual(t, s.Stop[0]-s.Start[0], 20, "slab %d rows", i)
		if s.Stop[0] != 95 {
			assert.Zero(t, s.Stop[0]%7, "slab %d stop %d is on a chunk boundary", i, s.Stop[0])
		}
		next = s.Stop[0]
	}
	assert.Equal(t, 95, next)
	_, err = arrowio.Slabs(l, 39)
	assert.ErrorIs(t, err, arrowio.ErrTooLarge)
}

func TestWriteFileReadsBack(t *testing.T) {
	m := realdata.ForTest(t)
	f, ok := m.Lookup("ncar_uvt_jan1988_T")
	require.True(t, ok)
	raw, err := m.Read(f)
	require.NoError(t, err)
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), &store.Options{NoSync: true})
	require.NoError(t, err)
	defer db.Close()
	info, err := db.Import("T", bytesReader(raw), int64(len(raw)), store.ArrayOptions{DType: codecs.Float32, Shape: f.Shape, Bound: codecs.Bound{Mode: codecs.ModeNone}}, nil)
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, arrowio.WriteFile(context.Background(), db, arrowio.LayoutOf(info, chunk.Full(f.Shape)), &buf, 64<<10))
	r, err := ipc.NewFileReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	defer r.Close()
	assert.Greater(t, r.NumRecords(), 1, "batches of 64 KiB")
	var got []byte
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.Record(i)
		require.NoError(t, err)
		values, err := arrowio.RecordValues(rec, codecs.Float32, f.Shape[1:])
		require.NoError(t, err)
		got = append(got, values...)
	}
	assert.Equal(t, raw, got, "lossless array reads back bit for bit")
}

func TestParticleRecordRealSet(t *testing.T) {
	m := realdata.ForTest(t)
	posFile, ok := m.Lookup("hacc_toy_m000_step50_pos")
	require.True(t, ok)
	idFile, ok := m.Lookup("hacc_toy_m000_step50_id")
	require.True(t, ok)
	pos, err := m.Read(posFile)
	require.NoError(t, err)
	ids, err := m.Read(idFile)
	require.NoError(t, err)
	xyz, err := arrowio.SplitXYZ("", codecs.Float32, pos)
	require.NoError(t, err)
	n := len(pos) / 12
	group := make([]int64, n)
	for i := range group {
		group[i] = int64(i % 5)
	}
	p := arrowio.ParticleColumns{Pos: xyz, ID: &arrowio.Column{DType: codecs.Int64, Raw: ids}, Group: group,
		Attrs: []arrowio.Column{{Name: "phi", DType: codecs.Float32, Raw: make([]byte, 4*n)}}}
	schema, err := arrowio.ParticleSchema("hacc", p, true)
	require.NoError(t, err)
	var names []string
	for _, fld := range schema.Fields() {
		names = append(names, fld.Name)
	}
	assert.Equal(t, []string{"x", "y", "z", "id", "phi", "group"}, names)
	rec, err := arrowio.ParticleRecord(schema, p)
	require.NoError(t, err)
	defer rec.Release()
	require.Equal(t, int64(n), rec.NumRows())
	y := rec.Column(1).(*array.Float32)
	for _, i := range []int{0, 1, n / 2, n - 1} {
		want := asSlice[float32](pos)[3*i+1]
		assert.Equal(t, want, y.Value(i), "y of particle %d", i)
	}
	assert.Equal(t, int64(n/2%5), rec.Column(5).(*array.Int64).Value(n/2))

	p.Attrs[0].Name = "id"
	_, err = arrowio.ParticleSchema("hacc", p, false)
	assert.Error(t, err, "attribute named like a fixed column")
}
