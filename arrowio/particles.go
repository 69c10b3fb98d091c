package arrowio

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/epsilon-db/epsilon/codecs"
)

// Column is one column of particle values: raw little-endian values of one
// dtype, one per particle.
type Column struct {
	Name  string
	DType codecs.DType
	Raw   []byte
}

// Len returns the number of values in c.
func (c Column) Len() int { return len(c.Raw) / c.DType.Size() }

// ParticleColumns are the values of a batch of particles. Pos is required;
// the other fields are optional and left out of the record when empty.
type ParticleColumns struct {
	Pos   [3]Column // x, y, z
	Vel   [3]Column // vx, vy, vz; empty Raw when the set has no velocities
	ID    *Column
	Attrs []Column // named per-particle attributes, in the order given
	// Group is the group (halo) index of each particle, sent when a ticket
	// sets "group".
	Group []int64
}

// ParticleSetInfo describes a particle set for ListFlights and
// GetFlightInfo.
type ParticleSetInfo struct {
	Name  string
	Count int64
	// Columns is the schema of the set's records without the group column,
	// as ParticleSchema builds it. Raw is unused.
	Columns []Column
	// Meta, when not empty, goes to the schema metadata under
	// MetaParticles.
	Meta string
	// Arrays names the store arrays that hold the set. ListFlights leaves
	// them out of the arrays it lists.
	Arrays []string
}

// Schema returns the schema of the set's records, with an int64 column
// "group" at the end when group is set.
func (set ParticleSetInfo) Schema(group bool) (*arrow.Schema, error) {
	fields := make([]arrow.Field, 0, len(set.Columns)+1)
	for _, c := range set.Columns {
		t, err := ArrowType(c.DType)
		if err != nil {
			return nil, err
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: t})
	}
	if group {
		fields = append(fields, arrow.Field{Name: "group", Type: arrow.PrimitiveTypes.Int64})
	}
	keys, values := []string{MetaName}, []string{set.Name}
	if set.Meta != "" {
		keys, values = append(keys, MetaParticles), append(values, set.Meta)
	}
	md := arrow.NewMetadata(keys, values)
	return arrow.NewSchema(fields, &md), nil
}

// ParticleSource is what the Flight server needs from a particle store.
// When ServerOptions.Particles is nil, the server uses StoreParticles.
type ParticleSource interface {
	// ParticleSets lists the particle sets.
	ParticleSets() ([]ParticleSetInfo, error)
	// ReadParticles streams set name in batches of at most batchBytes of
	// decoded values, calling emit once per batch. With group set, every
	// batch carries ParticleColumns.Group. It returns an error wrapping
	// store.ErrNotFound for an unknown name.
	ReadParticles(ctx context.Context, name string, group bool, batchBytes int64, emit func(ParticleColumns) error) error
}

// SplitXYZ splits interleaved triples (x0 y0 z0 x1 y1 z1 ...), the layout of
// an N x 3 array, into three columns named prefix+"x", prefix+"y" and
// prefix+"z".
func SplitXYZ(prefix string, dtype codecs.DType, raw []byte) ([3]Column, error) {
	size := dtype.Size()
	if size == 0 || len(raw)%(3*size) != 0 {
		return [3]Column{}, fmt.Errorf("%d bytes of %s do not split into triples", len(raw), dtype)
	}
	n := len(raw) / (3 * size)
	var out [3]Column
	for axis, name := range []string{"x", "y", "z"} {
		col := make([]byte, n*size)
		for i := 0; i < n; i++ {
			copy(col[i*size:(i+1)*size], raw[(3*i+axis)*size:(3*i+axis+1)*size])
		}
		out[axis] = Column{Name: prefix + name, DType: dtype, Raw: col}
	}
	return out, nil
}

// ordered returns the columns of p in record order: x, y, z, then vx, vy,
// vz, id and the attributes when present.
func (p *ParticleColumns) ordered() ([]Column, error) {
	cols := []Column{p.Pos[0], p.Pos[1], p.Pos[2]}
	for i, name := range []string{"x", "y", "z"} {
		cols[i].Name = name
	}
	if len(p.Vel[0].Raw) > 0 {
		for i, name := range []string{"vx", "vy", "vz"} {
			c := p.Vel[i]
			c.Name = name
			cols = append(cols, c)
		}
	}
	if p.ID != nil {
		c := *p.ID
		c.Name = "id"
		cols = append(cols, c)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c.Name] = true
	}
	for _, a := range p.Attrs {
		if a.Name == "" || seen[a.Name] || a.Name == "group" {
			return nil, fmt.Errorf("particle attribute name %q: must be non-empty and differ from x, y, z, vx, vy, vz, id, group and the other attributes", a.Name)
		}
		seen[a.Name] = true
		cols = append(cols, a)
	}
	n := cols[0].Len()
	for _, c := range cols {
		if !c.DType.Valid() || c.Len() != n || len(c.Raw)%c.DType.Size() != 0 {
			return nil, fmt.Errorf("particle column %q has %d bytes of %s, expected %d values like column x", c.Name, len(c.Raw), c.DType, n)
		}
	}
	if p.Group != nil && len(p.Group) != n {
		return nil, fmt.Errorf("particle column group has %d values, expected %d like column x", len(p.Group), n)
	}
	return cols, nil
}

// ParticleSchema returns the schema of particle records with p's columns,
// plus an int64 column "group" when group is set.
func ParticleSchema(name string, p ParticleColumns, group bool) (*arrow.Schema, error) {
	cols, err := p.ordered()
	if err != nil {
		return nil, err
	}
	fields := make([]arrow.Field, 0, len(cols)+1)
	for _, c := range cols {
		t, err := ArrowType(c.DType)
		if err != nil {
			return nil, err
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: t})
	}
	if group {
		fields = append(fields, arrow.Field{Name: "group", Type: arrow.PrimitiveTypes.Int64})
	}
	md := arrow.NewMetadata([]string{MetaName}, []string{name})
	return arrow.NewSchema(fields, &md), nil
}

// ParticleRecord builds one record batch of schema (from ParticleSchema)
// from p without copying the values.
func ParticleRecord(schema *arrow.Schema, p ParticleColumns) (arrow.RecordBatch, error) {
	cols, err := p.ordered()
	if err != nil {
		return nil, err
	}
	withGroup := schema.NumFields() == len(cols)+1 && schema.Field(len(cols)).Name == "group"
	if schema.NumFields() != len(cols) && !withGroup {
		return nil, fmt.Errorf("particle schema has %d fields, the columns give %d", schema.NumFields(), len(cols))
	}
	if withGroup {
		if p.Group == nil {
			return nil, fmt.Errorf("particle schema has a group column, the batch has no group values")
		}
		cols = append(cols, Column{Name: "group", DType: codecs.Int64, Raw: int64Bytes(p.Group)})
	}
	n := cols[0].Len()
	arrays := make([]arrow.Array, len(cols))
	for i, c := range cols {
		t, err := ArrowType(c.DType)
		if err != nil {
			return nil, err
		}
		if f := schema.Field(i); f.Name != c.Name || !arrow.TypeEqual(f.Type, t) {
			return nil, fmt.Errorf("particle column %d is %s %s, the schema expects %s %s", i, c.Name, t, f.Name, f.Type)
		}
		data := array.NewData(t, n, []*memory.Buffer{nil, memory.NewBufferBytes(c.Raw)}, nil, 0, 0)
		arrays[i] = array.MakeFromData(data)
		data.Release()
	}
	rec := array.NewRecordBatch(schema, arrays, int64(n))
	for _, a := range arrays {
		a.Release()
	}
	return rec, nil
}

func int64Bytes(v []int64) []byte {
	out := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(out[8*i:], uint64(x))
	}
	return out
}
