package arrowio

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/particles"
	"github.com/epsilon-db/epsilon/store"
)

// MetaParticles is the schema metadata key of a particle set's description
// (ParticleMeta, as JSON).
const MetaParticles = "epsilon.particles"

// ParticleMeta describes a stored particle dataset in the schema metadata
// of its flight.
type ParticleMeta struct {
	Count         int      `json:"count"`
	DType         string   `json:"dtype"` // numpy name
	Box           float64  `json:"box"`
	Periodic      bool     `json:"periodic"`
	Link          float64  `json:"link"`
	Bound         float64  `json:"bound"`
	Velocities    bool     `json:"velocities"`
	VelocityBound float64  `json:"velocity_bound"`
	IDs           bool     `json:"ids"`
	Attributes    []string `json:"attributes"`
}

// StoreParticles is the ParticleSource of the particle datasets that the
// particles package stores in DB. Reads return positions with the
// correction applied, in the original particle order, and the group column
// holds friends-of-friends labels at the dataset's linking length computed
// on those positions: each particle's label is the smallest original index
// in its group.
type StoreParticles struct {
	DB *store.DB
}

// ParticleSets lists the particle datasets of the store. The arrays of a
// dataset NAME (the entry array NAME and the arrays NAME/...) go to
// ParticleSetInfo.Arrays.
func (p StoreParticles) ParticleSets() ([]ParticleSetInfo, error) {
	arrays, err := p.DB.List()
	if err != nil {
		return nil, err
	}
	var sets []ParticleSetInfo
	for _, a := range arrays {
		info, err := particles.Open(p.DB, a.Name)
		if errors.Is(err, particles.ErrNotParticles) {
			continue
		}
		if err != nil {
			return nil, err
		}
		set, err := particleSetInfo(a.Name, info)
		if err != nil {
			return nil, err
		}
		// The particles package names the arrays of dataset NAME NAME/...
		for _, b := range arrays {
			if b.Name == a.Name || strings.HasPrefix(b.Name, a.Name+"/") {
				set.Arrays = append(set.Arrays, b.Name)
			}
		}
		sets = append(sets, set)
	}
	return sets, nil
}

func particleSetInfo(name string, info *particles.Info) (ParticleSetInfo, error) {
	dtype := info.DType
	col := func(name string, d codecs.DType) Column { return Column{Name: name, DType: d} }
	set := ParticleSetInfo{Name: name, Count: int64(info.Count)}
	set.Columns = append(set.Columns, col("x", dtype), col("y", dtype), col("z", dtype))
	if info.Velocities {
		set.Columns = append(set.Columns, col("vx", dtype), col("vy", dtype), col("vz", dtype))
	}
	if info.IDs {
		set.Columns = append(set.Columns, col("id", codecs.Int64))
	}
	meta := ParticleMeta{
		Count: info.Count, DType: NumpyName(dtype), Box: info.Box, Periodic: info.Periodic, Link: info.Link, Bound: info.Bound,
		Velocities: info.Velocities, VelocityBound: info.VelocityBound, IDs: info.IDs, Attributes: []string{},
	}
	for _, a := range info.Attributes {
		set.Columns = append(set.Columns, col(a.Name, dtype))
		meta.Attributes = append(meta.Attributes, a.Name)
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return set, err
	}
	set.Meta = string(b)
	return set, nil
}

// ReadParticles reads dataset name whole (the correction needs every
// position), computes the groups when asked, and emits the columns in
// batches of at most batchBytes. The batches share one set of column
// buffers, which stay valid after ReadParticles returns.
func (p StoreParticles) ReadParticles(ctx context.Context, name string, group bool, batchBytes int64, emit func(ParticleColumns) error) error {
	ds, info, err := particles.Read(p.DB, name, particles.ReadOptions{})
	if errors.Is(err, particles.ErrNotParticles) {
		return fmt.Errorf("particle set %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	var labels []int64
	if group {
		g, err := particles.FoF(ds.X, ds.Y, ds.Z, particles.Space{Box: info.Box, Periodic: info.Periodic}, info.Link)
		if err != nil {
			return err
		}
		labels = make([]int64, len(g.Labels))
		for i, l := range g.Labels {
			labels[i] = int64(l)
		}
	}

	all := ParticleColumns{Group: labels}
	for d, v := range [3][]float64{ds.X, ds.Y, ds.Z} {
		all.Pos[d] = floatColumn(v, info.DType)
	}
	if ds.VX != nil {
		for d, v := range [3][]float64{ds.VX, ds.VY, ds.VZ} {
			all.Vel[d] = floatColumn(v, info.DType)
		}
	}
	if ds.IDs != nil {
		all.ID = &Column{DType: codecs.Int64, Raw: int64Bytes(ds.IDs)}
	}
	for _, a := range ds.Attributes {
		c := floatColumn(a.Values, info.DType)
		c.Name = a.Name
		all.Attrs = append(all.Attrs, c)
	}

	rowBytes := int64(0)
	for _, c := range all.columns() {
		rowBytes += int64(c.DType.Size())
	}
	if group {
		rowBytes += 8
	}
	perBatch := int(max(1, batchBytes/rowBytes))
	n := len(ds.X)
	for start := 0; start < n; start += perBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(all.slice(start, min(n, start+perBatch))); err != nil {
			return err
		}
	}
	return nil
}

// floatColumn returns v as raw little-endian values of dtype (f32 or f64).
// The values of a Float32 dataset are float32 values, so the conversion is
// exact.
func floatColumn(v []float64, dtype codecs.DType) Column {
	size := dtype.Size()
	raw := make([]byte, len(v)*size)
	for i, x := range v {
		if dtype == codecs.Float32 {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(x)))
		} else {
			binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
		}
	}
	return Column{DType: dtype, Raw: raw}
}

// columns returns every column of p that holds values, without the group.
func (p *ParticleColumns) columns() []Column {
	cols := append([]Column{}, p.Pos[:]...)
	if len(p.Vel[0].Raw) > 0 {
		cols = append(cols, p.Vel[:]...)
	}
	if p.ID != nil {
		cols = append(cols, *p.ID)
	}
	return append(cols, p.Attrs...)
}

// slice returns particles start to stop of p, sharing p's buffers.
func (p *ParticleColumns) slice(start, stop int) ParticleColumns {
	cut := func(c Column) Column {
		size := c.DType.Size()
		c.Raw = c.Raw[start*size : stop*size]
		return c
	}
	var out ParticleColumns
	for d := range 3 {
		out.Pos[d] = cut(p.Pos[d])
		if len(p.Vel[d].Raw) > 0 {
			out.Vel[d] = cut(p.Vel[d])
		}
	}
	if p.ID != nil {
		id := cut(*p.ID)
		out.ID = &id
	}
	for _, a := range p.Attrs {
		out.Attrs = append(out.Attrs, cut(a))
	}
	if p.Group != nil {
		out.Group = p.Group[start:stop]
	}
	return out
}
