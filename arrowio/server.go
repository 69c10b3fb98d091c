package arrowio

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/store"
)

// ServerOptions configures a Server. Zero fields select the defaults.
type ServerOptions struct {
	// MaxRegionBytes is the largest decoded size of one DoGet or DoPut
	// request. Larger requests get ResourceExhausted. Default 4 GiB.
	MaxRegionBytes int64
	// BatchBytes is the largest record batch DoGet sends, at most
	// MaxBatchBytes. Default 16 MiB.
	BatchBytes int64
	// EndpointBytes is the target decoded size of one endpoint of a
	// FlightInfo: the array is cut into slabs of whole chunks along the
	// leading dimension of about this size. Default 64 MiB.
	EndpointBytes int64
	// Token, when set, is the bearer token every call must carry in its
	// "authorization: Bearer TOKEN" header. Calls without it get
	// Unauthenticated.
	Token string
	// Particles serves particle sets. Default: the particle datasets of
	// the store (StoreParticles).
	Particles ParticleSource
	// Logger receives one line per failed call. Default: discard.
	Logger *slog.Logger
}

func (o *ServerOptions) ensureDefaults() {
	if o.MaxRegionBytes == 0 {
		o.MaxRegionBytes = 4 << 30
	}
	if o.BatchBytes == 0 {
		o.BatchBytes = 16 << 20
	}
	if o.EndpointBytes == 0 {
		o.EndpointBytes = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

func (o *ServerOptions) validate() error {
	var errs []error
	if o.MaxRegionBytes < 1 {
		errs = append(errs, fmt.Errorf("ServerOptions.MaxRegionBytes %d: must be at least 1", o.MaxRegionBytes))
	}
	if o.BatchBytes < 1 || o.BatchBytes > MaxBatchBytes {
		errs = append(errs, fmt.Errorf("ServerOptions.BatchBytes %d: allowed are 1 to %d", o.BatchBytes, MaxBatchBytes))
	}
	if o.EndpointBytes < 1 {
		errs = append(errs, fmt.Errorf("ServerOptions.EndpointBytes %d: must be at least 1", o.EndpointBytes))
	}
	return errors.Join(errs...)
}

// Server is an Arrow Flight service over a store. It serves every array
// (and particle set) as a flight whose descriptor path is [name]; see the
// package documentation for the tickets, commands and actions.
type Server struct {
	flight.BaseFlightServer
	db   *store.DB
	opts ServerOptions
}

// NewServer returns the Flight service of db.
func NewServer(db *store.DB, opts ServerOptions) (*Server, error) {
	opts.ensureDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Particles == nil {
		opts.Particles = StoreParticles{DB: db}
	}
	return &Server{db: db, opts: opts}, nil
}

// NewFlightServer returns a flight.Server that serves s, checks the bearer
// token when ServerOptions.Token is set, and accepts messages of up to
// MaxBatchBytes plus framing. grpcOpts (TLS credentials, say) are passed to
// gRPC; they must not add interceptors.
func (s *Server) NewFlightServer(grpcOpts ...grpc.ServerOption) flight.Server {
	var middleware []flight.ServerMiddleware
	if s.opts.Token != "" {
		middleware = append(middleware, tokenMiddleware(s.opts.Token))
	}
	middleware = append(middleware, s.logMiddleware())
	grpcOpts = append([]grpc.ServerOption{grpc.MaxRecvMsgSize(MaxBatchBytes + 1<<20), grpc.ForceServerCodecV2(newFlightCodec())}, grpcOpts...)
	fs := flight.NewServerWithMiddleware(middleware, grpcOpts...)
	fs.RegisterFlightService(s)
	return fs
}

// tokenMiddleware rejects every call whose authorization header is not
// "Bearer TOKEN". It compares SHA-256 digests in constant time, so neither
// the content nor the length of the token leaks through timing.
func tokenMiddleware(token string) flight.ServerMiddleware {
	want := sha256.Sum256([]byte(token))
	check := func(ctx context.Context) error {
		md, _ := metadata.FromIncomingContext(ctx)
		ok := 0
		for _, v := range md.Get("authorization") {
			scheme, got, found := strings.Cut(v, " ")
			if found && strings.EqualFold(scheme, "bearer") {
				digest := sha256.Sum256([]byte(strings.TrimSpace(got)))
				ok |= subtle.ConstantTimeCompare(digest[:], want[:])
			}
		}
		if ok != 1 {
			return status.Error(codes.Unauthenticated, "missing or invalid bearer token: send the header \"authorization: Bearer TOKEN\"")
		}
		return nil
	}
	return flight.ServerMiddleware{
		Unary: func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if err := check(ctx); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		},
		Stream: func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			if err := check(ss.Context()); err != nil {
				return err
			}
			return handler(srv, ss)
		},
	}
}

// logMiddleware logs every call that fails, with its method and status.
func (s *Server) logMiddleware() flight.ServerMiddleware {
	logErr := func(method string, err error) {
		if err != nil {
			st, _ := status.FromError(err)
			s.opts.Logger.Warn("flight call failed", "method", method, "code", st.Code().String(), "error", st.Message())
		}
	}
	return flight.ServerMiddleware{
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			resp, err := handler(ctx, req)
			logErr(info.FullMethod, err)
			return resp, err
		},
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			err := handler(srv, ss)
			logErr(info.FullMethod, err)
			return err
		},
	}
}

// statusOf maps an error to its gRPC status. Errors that already carry a
// status keep it.
func statusOf(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrInvalidRequest), errors.Is(err, store.ErrInvalidName):
		code = codes.InvalidArgument
	case errors.Is(err, ErrTooLarge):
		code = codes.ResourceExhausted
	case errors.Is(err, store.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, store.ErrExists):
		code = codes.AlreadyExists
	case errors.Is(err, store.ErrReadOnly):
		code = codes.PermissionDenied
	case errors.Is(err, store.ErrCorrupt):
		code = codes.DataLoss
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Error(code, err.Error())
}

// layoutFor resolves an array ticket to its layout. With checkLimit, a
// region larger than ServerOptions.MaxRegionBytes is an error wrapping
// ErrTooLarge.
func (s *Server) layoutFor(t Ticket, checkLimit bool) (Layout, error) {
	info, err := s.db.Info(t.Array)
	if err != nil {
		return Layout{}, err
	}
	r, err := t.RegionIn(info.Shape)
	if err != nil {
		return Layout{}, err
	}
	l := LayoutOf(info, r)
	if n := int64(r.Count()) * int64(info.DType.Size()); checkLimit && n > s.opts.MaxRegionBytes {
		return l, fmt.Errorf("%w: region %v of array %q is %d bytes decoded, the server limit is %d: request a smaller region",
			ErrTooLarge, r, t.Array, n, s.opts.MaxRegionBytes)
	}
	return l, nil
}

// arrayInfo builds the FlightInfo of l: one endpoint per slab of whole
// chunks along the leading dimension, each with a ticket for its region.
func (s *Server) arrayInfo(l Layout, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	schema, err := l.Schema()
	if err != nil {
		return nil, err
	}
	slabs, err := Slabs(l, max(s.opts.EndpointBytes, l.RowBytes()))
	if err != nil {
		return nil, err
	}
	endpoints := make([]*flight.FlightEndpoint, len(slabs))
	for i, slab := range slabs {
		t := Ticket{Array: l.Name, Region: RegionPairs(slab)}
		endpoints[i] = &flight.FlightEndpoint{Ticket: &flight.Ticket{Ticket: t.Marshal()}}
	}
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(schema, memory.DefaultAllocator),
		FlightDescriptor: desc,
		Endpoint:         endpoints,
		TotalRecords:     int64(l.Rows()),
		TotalBytes:       l.Bytes(),
		Ordered:          true,
	}, nil
}

func pathDescriptor(name string) *flight.FlightDescriptor {
	return &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{name}}
}

// ListFlights sends one FlightInfo per array and per particle set. The
// arrays that hold a particle set are left out.
func (s *Server) ListFlights(_ *flight.Criteria, stream flight.FlightService_ListFlightsServer) error {
	arrays, err := s.db.List()
	if err != nil {
		return statusOf(err)
	}
	sets, err := s.opts.Particles.ParticleSets()
	if err != nil {
		return statusOf(err)
	}
	hidden := map[string]bool{}
	for _, set := range sets {
		for _, a := range set.Arrays {
			hidden[a] = true
		}
	}
	for _, a := range arrays {
		if hidden[a.Name] {
			continue
		}
		fi, err := s.arrayInfo(LayoutOf(a, chunk.Full(a.Shape)), pathDescriptor(a.Name))
		if err != nil {
			// An array whose rows exceed the batch limit is listed without
			// endpoints; reading it needs a region.
			schema, serr := LayoutOf(a, chunk.Full(a.Shape)).Schema()
			if serr != nil {
				return statusOf(serr)
			}
			fi = &flight.FlightInfo{Schema: flight.SerializeSchema(schema, memory.DefaultAllocator), FlightDescriptor: pathDescriptor(a.Name),
				TotalRecords: int64(a.Shape[0]), TotalBytes: a.RawBytes()}
		}
		if err := stream.Send(fi); err != nil {
			return err
		}
	}
	for _, set := range sets {
		fi, err := s.particleInfo(set, false, pathDescriptor(set.Name))
		if err != nil {
			return statusOf(err)
		}
		if err := stream.Send(fi); err != nil {
			return err
		}
	}
	return nil
}

// GetFlightInfo describes a flight. A PATH descriptor [name] names a whole
// array or particle set; a CMD descriptor carries a ticket JSON, to
// describe a region.
func (s *Server) GetFlightInfo(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	var t Ticket
	switch desc.GetType() {
	case flight.DescriptorPATH:
		if len(desc.Path) != 1 {
			return nil, status.Errorf(codes.InvalidArgument, "descriptor path %q: expected one element, the array name", desc.Path)
		}
		t.Array = desc.Path[0]
	case flight.DescriptorCMD:
		var err error
		if t, err = ParseTicket(desc.Cmd); err != nil {
			return nil, statusOf(err)
		}
	default:
		return nil, status.Errorf(codes.InvalidArgument, "descriptor type %v: expected PATH or CMD", desc.GetType())
	}
	if desc.GetType() == flight.DescriptorPATH {
		// A particle set's name is also the name of its entry array, so
		// the set goes first.
		if set, err := s.findParticleSet(t.Array); err == nil {
			fi, err := s.particleInfo(set, false, desc)
			return fi, statusOf(err)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, statusOf(err)
		}
	}
	if t.Array != "" {
		// Describing a region costs no decoding, so the size limit applies
		// to DoGet only; each endpoint is at most EndpointBytes anyway.
		l, err := s.layoutFor(t, false)
		if err != nil {
			return nil, statusOf(err)
		}
		fi, err := s.arrayInfo(l, desc)
		return fi, statusOf(err)
	}
	set, err := s.findParticleSet(t.Particles)
	if err != nil {
		return nil, statusOf(err)
	}
	fi, err := s.particleInfo(set, t.Group, desc)
	return fi, statusOf(err)
}

func (s *Server) findParticleSet(name string) (ParticleSetInfo, error) {
	sets, err := s.opts.Particles.ParticleSets()
	if err != nil {
		return ParticleSetInfo{}, err
	}
	for _, set := range sets {
		if set.Name == name {
			return set, nil
		}
	}
	return ParticleSetInfo{}, fmt.Errorf("particle set %q: %w", name, store.ErrNotFound)
}

func (s *Server) particleInfo(set ParticleSetInfo, group bool, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	schema, err := set.Schema(group)
	if err != nil {
		return nil, err
	}
	var rowBytes int64
	for _, f := range schema.Fields() {
		rowBytes += int64(f.Type.(arrow.FixedWidthDataType).Bytes())
	}
	t := Ticket{Particles: set.Name, Group: group}
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(schema, memory.DefaultAllocator),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: t.Marshal()}}},
		TotalRecords:     set.Count,
		TotalBytes:       set.Count * rowBytes,
		Ordered:          true,
	}, nil
}

// DoGet streams the array region or particle set the ticket names.
func (s *Server) DoGet(tkt *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	t, err := ParseTicket(tkt.GetTicket())
	if err != nil {
		return statusOf(err)
	}
	if t.Particles != "" {
		return statusOf(s.doGetParticles(t, stream))
	}
	l, err := s.layoutFor(t, true)
	if err != nil {
		return statusOf(err)
	}
	schema, err := l.Schema()
	if err != nil {
		return statusOf(err)
	}
	w := newRecordSender(stream, schema)
	err = StreamRegion(stream.Context(), s.db, l, s.opts.BatchBytes, w.Write)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return statusOf(err)
}

func (s *Server) doGetParticles(t Ticket, stream flight.FlightService_DoGetServer) error {
	set, err := s.findParticleSet(t.Particles)
	if err != nil {
		return err
	}
	schema, err := set.Schema(t.Group)
	if err != nil {
		return err
	}
	if n := set.Count * int64(schema.NumFields()) * 8; n > s.opts.MaxRegionBytes {
		return fmt.Errorf("%w: particle set %q is up to %d bytes decoded, the server limit is %d", ErrTooLarge, set.Name, n, s.opts.MaxRegionBytes)
	}
	w := newRecordSender(stream, schema)
	err = s.opts.Particles.ReadParticles(stream.Context(), t.Particles, t.Group, s.opts.BatchBytes, func(p ParticleColumns) error {
		rec, err := ParticleRecord(schema, p)
		if err != nil {
			return err
		}
		defer rec.Release()
		return w.Write(rec)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// ListActions lists the stat action.
func (s *Server) ListActions(_ *flight.Empty, stream flight.FlightService_ListActionsServer) error {
	return stream.Send(&flight.ActionType{Type: "stat", Description: `storage summary of an array, as "epsilon inspect --json" prints it; body {"name": NAME}`})
}

// DoAction runs the stat action: its result is the JSON of
// store.StatReport.
func (s *Server) DoAction(a *flight.Action, stream flight.FlightService_DoActionServer) error {
	if a.GetType() != "stat" {
		return status.Errorf(codes.InvalidArgument, "unknown action %q: the server offers stat", a.GetType())
	}
	body, err := ParseActionBody(a.GetBody())
	if err != nil {
		return statusOf(err)
	}
	st, err := s.db.Stat(body.Name)
	if err != nil {
		return statusOf(err)
	}
	b, err := json.Marshal(st.Report())
	if err != nil {
		return statusOf(err)
	}
	return stream.Send(&flight.Result{Body: b})
}
