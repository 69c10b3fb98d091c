package arrowio_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/epsilon-db/epsilon/arrowio"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/particles"
	"github.com/epsilon-db/epsilon/qos"
)

// particleSet is a real particle set with the options it is stored with.
type particleSet struct {
	name string
	ds   *particles.Dataset
	opts particles.Options
	// attrBound is the bound of the attribute, when the set has one.
	attrBound float64
}

// float32Columns reads an N x cols float32 file of the real data set into
// cols columns.
func float32Columns(t *testing.T, m *realdata.Manifest, sub string, cols int) [][]float64 {
	t.Helper()
	f, ok := m.Lookup(sub)
	require.True(t, ok, "real data file %s", sub)
	raw, err := m.Read(f)
	require.NoError(t, err)
	n := len(raw) / 4 / cols
	out := make([][]float64, cols)
	for c := range out {
		out[c] = make([]float64, n)
		for i := range n {
			out[c][i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(i*cols+c):])))
		}
	}
	return out
}

// realParticleSets returns the HACC set (positions, velocities, ids and
// the potential phi as an attribute) and the hfof set (positions only),
// at their friends-of-friends linking lengths, with a position bound of a
// fifth of the linking length.
func realParticleSets(t *testing.T) []particleSet {
	m := realdata.ForTest(t)
	pos := float32Columns(t, m, "hacc_toy_m000_step50_pos", 3)
	vel := float32Columns(t, m, "hacc_toy_m000_step50_vel", 3)
	phi := float32Columns(t, m, "hacc_toy_m000_step50_phi", 1)[0]
	f, ok := m.Lookup("hacc_toy_m000_step50_id")
	require.True(t, ok)
	raw, err := m.Read(f)
	require.NoError(t, err)
	ids := make([]int64, len(raw)/8)
	for i := range ids {
		ids[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	hacc := particleSet{
		name: "hacc",
		ds: &particles.Dataset{DType: codecs.Float32, X: pos[0], Y: pos[1], Z: pos[2], VX: vel[0], VY: vel[1], VZ: vel[2], IDs: ids,
			Attributes: []particles.Attribute{{Name: "phi", Values: phi, Bound: 1e-3}}},
		opts:      particles.Options{Box: 256, Periodic: true, Link: 1.6, Bound: 0.32, VelocityBound: 1, Order: particles.OrderOriginal},
		attrBound: 1e-3,
	}
	pos = float32Columns(t, m, "hfof_cosmo32768_pos", 3)
	hfof := particleSet{
		name: "hfof",
		ds:   &particles.Dataset{DType: codecs.Float32, X: pos[0], Y: pos[1], Z: pos[2]},
		opts: particles.Options{Box: 1, Periodic: true, Link: 0.00625, Bound: 0.00125},
	}
	return []particleSet{hacc, hfof}
}

// readTable reads every batch of a ticket into one column per field, as
// float64 values (ids and groups are exact in float64 below 2^53).
func readTable(t *testing.T, client flight.Client, ticket arrowio.Ticket, batches *int) (map[string][]float64, *arrow.Schema) {
	t.Helper()
	stream, err := client.DoGet(context.Background(), &flight.Ticket{Ticket: ticket.Marshal()})
	require.NoError(t, err)
	r, err := flight.NewRecordReader(stream)
	require.NoError(t, err)
	defer r.Release()
	cols := map[string][]float64{}
	for r.Next() {
		*batches++
		rec := r.RecordBatch()
		for i, f := range rec.Schema().Fields() {
			switch c := rec.Column(i).(type) {
			case *array.Float32:
				for _, v := range c.Float32Values() {
					cols[f.Name] = append(cols[f.Name], float64(v))
				}
			case *array.Float64:
				cols[f.Name] = append(cols[f.Name], c.Float64Values()...)
			case *array.Int64:
				for _, v := range c.Int64Values() {
					cols[f.Name] = append(cols[f.Name], float64(v))
				}
			default:
				t.Fatalf("column %s has type %s", f.Name, c.DataType())
			}
		}
	}
	require.NoError(t, r.Err())
	return cols, r.Schema()
}

func TestDoGetParticlesRealSets(t *testing.T) {
	db, _ := openStore(t)
	sets := realParticleSets(t)
	for _, s := range sets {
		_, err := particles.Write(db, s.name, s.ds, s.opts)
		require.NoError(t, err, s.name)
	}
	// Small batches, so that every set comes in several.
	client := startServer(t, db, arrowio.ServerOptions{BatchBytes: 100 << 10})

	for _, s := range sets {
		t.Run(s.name, func(t *testing.T) {
			var batches int
			cols, schema := readTable(t, client, arrowio.Ticket{Particles: s.name, Group: true}, &batches)
			assert.Greater(t, batches, 1, "batches")
			var names []string
			for _, f := range schema.Fields() {
				names = append(names, f.Name)
			}
			want := []string{"x", "y", "z", "group"}
			if s.name == "hacc" {
				want = []string{"x", "y", "z", "vx", "vy", "vz", "id", "phi", "group"}
			}
			require.Equal(t, want, names)

			for name, orig := range map[string][]float64{"x": s.ds.X, "y": s.ds.Y, "z": s.ds.Z} {
				st := qos.Compare(orig, cols[name], s.opts.Bound, nil)
				assert.NoError(t, st.Err(), "column %s", name)
			}
			if s.ds.VX != nil {
				for name, orig := range map[string][]float64{"vx": s.ds.VX, "vy": s.ds.VY, "vz": s.ds.VZ} {
					st := qos.Compare(orig, cols[name], s.opts.VelocityBound, nil)
					assert.NoError(t, st.Err(), "column %s", name)
				}
				st := qos.Compare(s.ds.Attributes[0].Values, cols["phi"], s.attrBound, nil)
				assert.NoError(t, st.Err(), "column phi")
				ids := make([]float64, len(s.ds.IDs))
				for i, id := range s.ds.IDs {
					ids[i] = float64(id)
				}
				assert.Equal(t, ids, cols["id"], "ids")
			}

			groups, err := particles.FoF(s.ds.X, s.ds.Y, s.ds.Z, particles.Space{Box: s.opts.Box, Periodic: s.opts.Periodic}, s.opts.Link)
			require.NoError(t, err)
			want64 := make([]float64, len(groups.Labels))
			for i, l := range groups.Labels {
				want64[i] = float64(l)
			}
			assert.Equal(t, want64, cols["group"], "group labels against FoF on the original positions")

			md, ok := schema.Metadata().GetValue(arrowio.MetaParticles)
			require.True(t, ok, "schema metadata %s", arrowio.MetaParticles)
			var meta arrowio.ParticleMeta
			require.NoError(t, json.Unmarshal([]byte(md), &meta))
			assert.Equal(t, len(s.ds.X), meta.Count)
			assert.Equal(t, s.opts.Link, meta.Link)
		})
	}

	// Without "group", the group column is left out.
	var batches int
	cols, _ := readTable(t, client, arrowio.Ticket{Particles: "hfof"}, &batches)
	assert.NotContains(t, cols, "group")
	assert.Len(t, cols["x"], len(sets[1].ds.X))
}

func TestListFlightsParticleSets(t *testing.T) {
	db, _ := openStore(t)
	sets := realParticleSets(t)
	_, err := particles.Write(db, "hfof", sets[1].ds, sets[1].opts)
	require.NoError(t, err)
	client := startServer(t, db, arrowio.ServerOptions{})
	ctx := context.Background()

	stream, err := client.ListFlights(ctx, &flight.Criteria{})
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
	assert.Equal(t, []string{"TS", "pressure", "hfof"}, names, "the arrays of a particle set are not listed")

	info, err := client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"hfof"}})
	require.NoError(t, err)
	assert.Equal(t, int64(len(sets[1].ds.X)), info.TotalRecords)
	assert.Equal(t, int64(len(sets[1].ds.X))*12, info.TotalBytes)
	require.Len(t, info.Endpoint, 1)
	assert.JSONEq(t, `{"particles": "hfof"}`, string(info.Endpoint[0].Ticket.Ticket))

	info, err = client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: []byte(`{"particles": "hfof", "group": true}`)})
	require.NoError(t, err)
	assert.Equal(t, int64(len(sets[1].ds.X))*20, info.TotalBytes, "x, y, z and the int64 group")
}

func TestDoGetParticlesErrorCodes(t *testing.T) {
	db, _ := openStore(t)
	sets := realParticleSets(t)
	_, err := particles.Write(db, "hfof", sets[1].ds, sets[1].opts)
	require.NoError(t, err)
	client := startServer(t, db, arrowio.ServerOptions{MaxRegionBytes: 100 << 10})
	cases := []struct {
		name, ticket string
		code         codes.Code
	}{
		{"over the limit", `{"particles": "hfof"}`, codes.ResourceExhausted},
		{"unknown set", `{"particles": "nope"}`, codes.NotFound},
		{"array name", `{"particles": "TS"}`, codes.NotFound},
		{"region", `{"particles": "hfof", "region": [[0, 1]]}`, codes.InvalidArgument},
	}
	for _, c := range cases {
		_, _, err := doGet(context.Background(), client, []byte(c.ticket))
		assert.Equal(t, c.code, status.Code(err), "%s: %v", c.name, err)
	}
}
