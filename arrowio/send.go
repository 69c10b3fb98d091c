package arrowio

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec that flightCodec wraps
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of arrow.flight.protocol.FlightData (Flight.proto).
const (
	fieldDataHeader = 2
	fieldDataBody   = 1000
)

// flightCodec is the gRPC codec of the server: the standard protobuf codec,
// except for *rawFlightData, which it serializes as a FlightData message
// whose body refers to the record batch's buffers instead of copying them.
// The flight package's writer copies every body twice before gRPC gets it:
// into a bytes.Buffer, then into the protobuf encoding.
type flightCodec struct {
	proto encoding.CodecV2
}

func newFlightCodec() flightCodec {
	return flightCodec{proto: encoding.GetCodecV2("proto")}
}

// Name returns "proto": the messages on the wire are FlightData protobufs,
// so the content subtype stays the one clients expect.
func (flightCodec) Name() string { return "proto" }

func (c flightCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*rawFlightData); ok {
		return m.marshal(), nil
	}
	return c.proto.Marshal(v)
}

func (c flightCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return c.proto.Unmarshal(data, v)
}

// rawFlightData is a FlightData message with an IPC message header and a
// body made of slices that stay valid until release is called. gRPC calls
// release (through bodyRelease) once it has written the last large slice to
// the connection, which is after SendMsg returns.
type rawFlightData struct {
	header  []byte
	body    [][]byte
	release func()
}

// marshal returns the protobuf encoding of m: the data_header field, then
// the data_body field, whose large slices are referenced, not copied.
// Slices below gRPC's pooling threshold are copied, because gRPC gives no
// callback for them.
func (m *rawFlightData) marshal() mem.BufferSlice {
	bodyLen := 0
	for _, b := range m.body {
		bodyLen += len(b)
	}
	small := protowire.AppendTag(nil, fieldDataHeader, protowire.BytesType)
	small = protowire.AppendBytes(small, m.header)
	small = protowire.AppendTag(small, fieldDataBody, protowire.BytesType)
	small = protowire.AppendVarint(small, uint64(bodyLen))

	rel := &bodyRelease{release: m.release}
	var out mem.BufferSlice
	for _, b := range m.body {
		if mem.IsBelowBufferPoolingThreshold(len(b)) {
			small = append(small, b...)
			continue
		}
		out = append(out, mem.SliceBuffer(small))
		small = nil
		rel.pending.Add(1)
		out = append(out, mem.NewBuffer(&b, rel))
	}
	if len(small) > 0 {
		out = append(out, mem.SliceBuffer(small))
	}
	if rel.pending.Load() == 0 {
		m.release() // every byte was copied
	}
	return out
}

// bodyRelease is the mem.BufferPool of the referenced body slices of one
// message: gRPC puts each slice back when it no longer needs it, and the
// last one calls release.
type bodyRelease struct {
	pending atomic.Int64
	release func()
}

func (r *bodyRelease) Get(int) *[]byte {
	panic("arrowio: bodyRelease only takes slices back")
}

func (r *bodyRelease) Put(*[]byte) {
	if r.pending.Add(-1) == 0 {
		r.release()
	}
}

// recordSender writes record batches to a DoGet stream as FlightData
// messages without copying their buffers. Each record is retained until
// gRPC has sent it.
type recordSender struct {
	stream grpc.ServerStream
	w      *ipc.Writer
	// current is the record being written; the payload writer takes it.
	current arrow.RecordBatch
}

func newRecordSender(stream flight.FlightService_DoGetServer, schema *arrow.Schema) *recordSender {
	s := &recordSender{stream: stream}
	s.w = ipc.NewWriterWithPayloadWriter(payloadSender{s}, ipc.WithSchema(schema))
	return s
}

// Write sends rec. rec may be released when Write returns.
func (s *recordSender) Write(rec arrow.RecordBatch) error {
	s.current = rec
	defer func() { s.current = nil }()
	return s.w.Write(rec)
}

// Close ends the IPC stream.
func (s *recordSender) Close() error { return s.w.Close() }

type payloadSender struct{ s *recordSender }

func (payloadSender) Start() error { return nil }
func (payloadSender) Close() error { return nil }

// WritePayload sends one IPC message. The body slices of a record batch
// alias the buffers of the record being written, so the record is retained
// until gRPC has sent them.
func (p payloadSender) WritePayload(payload ipc.Payload) error {
	meta := payload.Meta()
	header := append([]byte(nil), meta.Bytes()...)
	meta.Release()
	var body sliceCollector
	if err := payload.SerializeBody(&body); err != nil {
		return err
	}
	release := func() {}
	if rec := p.s.current; rec != nil && len(body) > 0 {
		rec.Retain()
		var once sync.Once
		release = func() { once.Do(rec.Release) }
	}
	msg := &rawFlightData{header: header, body: body, release: release}
	if err := p.s.stream.SendMsg(msg); err != nil {
		return fmt.Errorf("send record batch: %w", err)
	}
	return nil
}

// sliceCollector is an io.Writer that keeps the slices written to it
// instead of copying them.
//
// NOTE: io.Writer implementations must not retain p. This one does on
// purpose: ipc.Payload.SerializeBody writes the record's own buffers and a
// static padding array, both of which outlive the send because the record
// is retained.
type sliceCollector [][]byte

func (c *sliceCollector) Write(p []byte) (int, error) {
	*c = append(*c, p)
	return len(p), nil
}
