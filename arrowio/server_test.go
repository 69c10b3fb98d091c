package arrowio_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/epsilon-db/epsilon/arrowio"
	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/qos"
	"github.com/epsilon-db/epsilon/store"
)

// field is a real field imported into a test store.
type field struct {
	name  string
	file  realdata.File
	raw   []byte // original little-endian values
	bound float64
}

// openStore imports the TS (float32, 3-D) and pressure (float64, 2-D)
// fields at relative bound 1e-4 into a new store.
func openStore(t *testing.T) (*store.DB, []field) {
	t.Helper()
	m := realdata.ForTest(t)
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), &store.Options{NoSync: true, ChunkBytes: 256 << 10})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	var fields []field
	for _, spec := range []struct{ sub, name string }{{"cesm_lens_TS", "TS"}, {"sperr_pressure", "pressure"}} {
		f, ok := m.Lookup(spec.sub)
		require.True(t, ok, "real data file %s", spec.sub)
		raw, err := m.Read(f)
		require.NoError(t, err)
		dtype, err := codecs.ParseDType(f.DType)
		require.NoError(t, err)
		info, err := db.Import(spec.name, bytesReader(raw), int64(len(raw)), store.ArrayOptions{DType: dtype, Shape: f.Shape, Bound: codecs.Bound{Mode: codecs.ModeRel, Value: 1e-4}}, nil)
		require.NoError(t, err)
		fields = append(fields, field{name: spec.name, file: f, raw: raw, bound: info.AbsBound})
	}
	return db, fields
}

type bytesReader []byte

func (b bytesReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// startServer serves db on a free loopback port and returns a client.
func startServer(t testing.TB, db *store.DB, opts arrowio.ServerOptions) flight.Client {
	t.Helper()
	srv, err := arrowio.NewServer(db, opts)
	require.NoError(t, err)
	fs := srv.NewFlightServer()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fs.InitListener(lis)
	go fs.Serve()
	t.Cleanup(fs.Shutdown)
	client, err := flight.NewClientWithMiddleware(lis.Addr().String(), nil, nil,
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	return client
}

// doGet reads a ticket and returns the values of all batches, concatenated,
// and the schema.
func doGet(ctx context.Context, client flight.Client, ticket []byte) ([]byte, *arrow.Schema, error) {
	stream, err := client.DoGet(ctx, &flight.Ticket{Ticket: ticket})
	if err != nil {
		return nil, nil, err
	}
	r, err := flight.NewRecordReader(stream)
	if err != nil {
		return nil, nil, err
	}
	defer r.Release()
	var out []byte
	for r.Next() {
		rec := r.RecordBatch()
		dt := rec.Schema().Field(0).Type
		var rowShape []int
		if tt, ok := dt.(*arrowio.TensorType); ok {
			rowShape, dt = tt.Shape(), tt.ValueType()
		}
		dtype, err := arrowio.DTypeOf(dt)
		if err != nil {
			return nil, nil, err
		}
		raw, err := arrowio.RecordValues(rec, dtype, rowShape)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, raw...)
	}
	return out, r.Schema(), r.Err()
}

// checkWithinBound compares got with the original values of region r of f,
// value by value in float64.
func checkWithinBound(t *testing.T, f field, r chunk.Region, got []byte) {
	t.Helper()
	dtype, _ := codecs.ParseDType(f.file.DType)
	size := dtype.Size()
	want := make([]byte, r.Count()*size)
	pos := 0
	_ = chunk.Runs(f.file.Shape, r.Start, r.Shape(), func(off, n int) error {
		pos += copy(want[pos:], f.raw[off*size:(off+n)*size])
		return nil
	})
	require.Len(t, got, len(want), "decoded bytes of %s region %v", f.name, r)
	var st qos.ErrorStats
	if dtype == codecs.Float32 {
		st = qos.Compare(asSlice[float32](want), asSlice[float32](got), f.bound, nil)
	} else {
		st = qos.Compare(asSlice[float64](want), asSlice[float64](got), f.bound, nil)
	}
	assert.NoError(t, st.Err(), "%s region %v", f.name, r)
}

func asSlice[T any](b []byte) []T {
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}

func TestDoGetRealFieldsWithinBound(t *testing.T) {
	db, fields := openStore(t)
	client := startServer(t, db, arrowio.ServerOptions{BatchBytes: 300 << 10})
	ctx := context.Background()
	for _, f := range fields {
		got, schema, err := doGet(ctx, client, []byte(`{"array": "`+f.name+`"}`))
		require.NoError(t, err, f.name)
		checkWithinBound(t, f, chunk.Full(f.file.Shape), got)
		shape, _ := schema.Metadata().GetValue(arrowio.MetaShape)
		assert.Equal(t, jsonOf(f.file.Shape), shape, "%s schema metadata shape", f.name)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDoGetRegion(t *testing.T) {
	db, fields := openStore(t)
	client := startServer(t, db, arrowio.ServerOptions{BatchBytes: 64 << 10})
	ts := fields[0]
	r := chunk.Region{Start: []int{3, 10, 100}, Stop: []int{9, 150, 107}}
	got, schema, err := doGet(context.Background(), client, arrowio.Ticket{Array: "TS", Region: arrowio.RegionPairs(r)}.Marshal())
	require.NoError(t, err)
	checkWithinBound(t, ts, r, got)
	tt, ok := schema.Field(0).Type.(*arrowio.TensorType)
	require.True(t, ok, "data column type %s", schema.Field(0).Type)
	assert.Equal(t, []int{140, 7}, tt.Shape())
}

func TestEndpointsCoverArray(t *testing.T) {
	db, fields := openStore(t)
	client := startServer(t, db, arrowio.ServerOptions{EndpointBytes: 500 << 10})
	ctx := context.Background()
	for _, f := range fields {
		info, err := client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{f.name}})
		require.NoError(t, err, f.name)
		assert.Equal(t, int64(f.file.Shape[0]), info.TotalRecords, f.name)
		assert.Equal(t, int64(len(f.raw)), info.TotalBytes, f.name)
		assert.Greater(t, len(info.Endpoint), 1, "%s endpoints", f.name)
		var all []byte
		for _, ep := range info.Endpoint {
			got, _, err := doGet(ctx, client, ep.Ticket.Ticket)
			require.NoError(t, err, "%s endpoint %s", f.name, ep.Ticket.Ticket)
			all = append(all, got...)
		}
		checkWithinBound(t, f, chunk.Full(f.file.Shape), all)
	}
}

func TestListFlightsNamesEveryArray(t *testing.T) {
	db, _ := openStore(t)
	client := startServer(t, db, arrowio.ServerOptions{})
	stream, err := client.ListFlights(context.Background(), &flight.Criteria{})
	require.NoError(t, err)
	var names []string
	for {
		fi, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, fi.FlightDescriptor.Path...)
	}
	assert.Equal(t, []string{"TS", "pressure"}, names)
}

func TestDoPutRoundTrip(t *testing.T) {
	db, fields := openStore(t)
	client := startServer(t, db, arrowio.ServerOptions{})
	ctx := context.Background()
	ts := fields[0]
	cmd := `{"create": "TS2", "mode": "abs", "bound": 0.01, "chunks": [3, 96, 288]}`
	l := arrowio.Layout{Name: "TS2", DType: codecs.Float32, Shape: ts.file.Shape, Chunks: []int{1, 192, 288}, Region: chunk.Full(ts.file.Shape), Codec: "lorenzo"}
	schema, err := l.Schema()
	require.NoError(t, err)
	rowBytes := int(l.RowBytes())
	// Batches of 4, 4 and 2 rows do not line up with the chunks of 3 rows.
	var recs []arrow.RecordBatch
	for start := 0; start < 10; start += 4 {
		stop := min(10, start+4)
		rec, err := arrowio.NewRecord(schema, stop-start, ts.raw[start*rowBytes:stop*rowBytes])
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	result, err := doPut(ctx, client, cmd, schema, recs)
	require.NoError(t, err)
	var pr arrowio.PutResult
	require.NoError(t, json.Unmarshal(result, &pr))
	assert.Equal(t, 10, pr.Rows)

	got := make([]byte, len(ts.raw))
	require.NoError(t, db.Read("TS2", chunk.Full(ts.file.Shape), got))
	checkWithinBound(t, field{name: "TS2", file: ts.file, raw: ts.raw, bound: 0.01}, chunk.Full(ts.file.Shape), got)
}

func doPut(ctx context.Context, client flight.Client, cmd string, schema *arrow.Schema, recs []arrow.RecordBatch) ([]byte, error) {
	stream, err := client.DoPut(ctx)
	if err != nil {
		return nil, err
	}
	w := flight.NewRecordWriter(stream, ipc.WithSchema(schema))
	w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: []byte(cmd)})
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			break // the server's status follows on Recv
		}
	}
	w.Close()
	stream.CloseSend()
	var meta []byte
	for {
		res, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return meta, nil
		}
		if err != nil {
			return nil, err
		}
		meta = res.AppMetadata
	}
}

func TestDoPutRejectsBadInput(t *testing.T) {
	db, fields := openStore(t)
	client := startServer(t, db, arrowio.ServerOptions{})
	ctx := context.Background()
	ts := fields[0]
	l := arrowio.Layout{Name: "X", DType: codecs.Float32, Shape: ts.file.Shape, Chunks: ts.file.Shape, Region: chunk.Full(ts.file.Shape)}
	schema, err := l.Schema()
	require.NoError(t, err)
	rowBytes := int(l.RowBytes())
	short, err := arrowio.NewRecord(schema, 3, ts.raw[:3*rowBytes])
	require.NoError(t, err)
	cases := []struct {
		name, cmd string
		code      codes.Code
	}{
		{"malformed JSON", `{"create": `, codes.InvalidArgument},
		{"unknown field", `{"create": "A", "mode": "abs", "bound": 1, "boundd": 2}`, codes.InvalidArgument},
		{"rel without range", `{"create": "A", "mode": "rel", "bound": 1e-4}`, codes.InvalidArgument},
		{"negative bound", `{"create": "A", "mode": "abs", "bound": -1}`, codes.InvalidArgument},
		{"too few rows", `{"create": "A", "mode": "abs", "bound": 0.1}`, codes.InvalidArgument},
		{"wrong shape", `{"create": "A", "mode": "abs", "bound": 0.1, "shape": [10, 192, 289]}`, codes.InvalidArgument},
		{"existing name", `{"create": "TS", "mode": "abs", "bound": 0.1}`, codes.AlreadyExists},
		{"invalid name", `{"create": "../x", "mode": "abs", "bound": 0.1}`, codes.InvalidArgument},
	}
	for _, c := range cases {
		_, err := doPut(ctx, client, c.cmd, schema, []arrow.RecordBatch{short})
		assert.Equal(t, c.code, status.Code(err), "%s: %v", c.name, err)
	}
	_, err = db.Info("A")
	assert.ErrorIs(t, err, store.ErrNotFound, "a rejected put leaves no array behind")
}

func TestErrorCodes(t *testing.T) {
	db, _ := openStore(t)
	client := startServer(t, db, arrowio.ServerOptions{MaxRegionBytes: 1 << 20})
	ctx := context.Background()
	cases := []struct {
		name, ticket string
		code         codes.Code
	}{
		{"not JSON", `TS`, codes.InvalidArgument},
		{"empty", ``, codes.InvalidArgument},
		{"no name", `{}`, codes.InvalidArgument},
		{"both kinds", `{"array": "TS", "particles": "P"}`, codes.InvalidArgument},
		{"trailing data", `{"array": "TS"} {}`, codes.InvalidArgument},
		{"region outside", `{"array": "pressure", "region": [[0, 385], [0, 10]]}`, codes.InvalidArgument},
		{"region triple", `{"array": "pressure", "region": [[0, 1, 2], [0, 10]]}`, codes.InvalidArgument},
		{"region dims", `{"array": "pressure", "region": [[0, 1]]}`, codes.InvalidArgument},
		{"unknown array", `{"array": "nope"}`, codes.NotFound},
		{"unknown particles", `{"particles": "nope"}`, codes.NotFound},
		{"over the limit", `{"array": "TS"}`, codes.ResourceExhausted},
	}
	for _, c := range cases {
		_, _, err := doGet(ctx, client, []byte(c.ticket))
		assert.Equal(t, c.code, status.Code(err), "%s: %v", c.name, err)
	}
	_, _, err := doGet(ctx, client, []byte(`{"array": "TS", "region": [[0, 1], [0, 192], [0, 288]]}`))
	assert.NoError(t, err, "a region within the limit")

	info, err := client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"TS"}})
	require.NoError(t, err, "describing an array over the read limit")
	assert.Equal(t, int64(10*192*288*4), info.TotalBytes)
	_, err = client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"nope"}})
	assert.Equal(t, codes.NotFound, status.Code(err))
	_, err = doAction(ctx, client, "stat", `{"name": "nope"}`)
	assert.Equal(t, codes.NotFound, status.Code(err))
	_, err = doAction(ctx, client, "stat", `name`)
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = doAction(ctx, client, "drop", `{"name": "TS"}`)
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
}

func doAction(ctx context.Context, client flight.Client, kind, body string) ([]byte, error) {
	stream, err := client.DoAction(ctx, &flight.Action{Type: kind, Body: []byte(body)})
	if err != nil {
		return nil, err
	}
	res, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

func TestStatActionMatchesReport(t *testing.T) {
	db, _ := openStore(t)
	client := startServer(t, db, arrowio.ServerOptions{})
	body, err := doAction(context.Background(), client, "stat", `{"name": "TS"}`)
	require.NoError(t, err)
	st, err := db.Stat("TS")
	require.NoError(t, err)
	want, err := json.Marshal(st.Report())
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(body))
}

func TestTokenChecked(t *testing.T) {
	db, _ := openStore(t)
	const token = "0123456789abcdef-secret"
	client := startServer(t, db, arrowio.ServerOptions{Token: token})
	ticket := []byte(`{"array": "pressure", "region": [[0, 2], [0, 384]]}`)
	for _, header := range []string{"", "Bearer wrong-token-0123456789", "Basic " + token, token, "Bearer " + token + "x"} {
		ctx := context.Background()
		if header != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", header)
		}
		_, _, err := doGet(ctx, client, ticket)
		assert.Equal(t, codes.Unauthenticated, status.Code(err), "DoGet with header %q", header)
		_, err = client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"TS"}})
		assert.Equal(t, codes.Unauthenticated, status.Code(err), "GetFlightInfo with header %q", header)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	_, _, err := doGet(ctx, client, ticket)
	assert.NoError(t, err)
}

// TestDoGetConcurrentEndpoints reads every endpoint at once, in small
// batches, so that slab buffers return to their pools while gRPC still
// sends other batches; every value must still be right.
func TestDoGetConcurrentEndpoints(t *testing.T) {
	db, fields := openStore(t)
	client := startServer(t, db, arrowio.ServerOptions{EndpointBytes: 700 << 10, BatchBytes: 250 << 10})
	ctx := context.Background()
	ts := fields[0]
	info, err := client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{ts.name}})
	require.NoError(t, err)
	require.Greater(t, len(info.Endpoint), 2, "endpoints")
	parts := make([][]byte, len(info.Endpoint))
	errs := make([]error, len(info.Endpoint))
	var wg sync.WaitGroup
	for i, ep := range info.Endpoint {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i], _, errs[i] = doGet(ctx, client, ep.Ticket.Ticket)
		}()
	}
	wg.Wait()
	var all []byte
	for i := range parts {
		require.NoError(t, errs[i], "endpoint %d", i)
		all = append(all, parts[i]...)
	}
	checkWithinBound(t, ts, chunk.Full(ts.file.Shape), all)
}
