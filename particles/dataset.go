package particles

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// FormatVersion is the version of the particle dataset layout and of the
// correction that Write stores. Read rejects other versions.
const FormatVersion = 2

// Dataset is a particle set in its original order. Values of a Float32
// dataset are float32 values held in float64.
type Dataset struct {
	DType      codecs.DType
	X, Y, Z    []float64
	VX, VY, VZ []float64 // nil when the set has no velocities
	IDs        []int64   // nil when the set has no ids
	Attributes []Attribute
}

// Attribute is a named float attribute of every particle.
type Attribute struct {
	Name   string
	Values []float64
	// Bound is the absolute error bound; 0 stores the values losslessly.
	Bound float64
}

// Options describes how Write stores a dataset.
type Options struct {
	Box      float64
	Periodic bool
	// Link is the friends-of-friends linking length whose groups the
	// stored positions preserve.
	Link float64
	// Bound is the absolute error bound of every position coordinate.
	Bound float64
	// VelocityBound is the absolute error bound of every velocity
	// component; 0 stores velocities losslessly.
	VelocityBound float64
	// Order selects whether Read returns the original order, which costs
	// a stored permutation, or the stored order.
	Order Order
}

// Order selects the order in which Read returns a dataset's particles.
type Order int

const (
	// OrderAuto keeps the original order of a set without ids, and stores
	// a set with ids in stored order, since the ids tell its particles
	// apart.
	OrderAuto Order = iota
	// OrderOriginal keeps the original order.
	OrderOriginal
	// OrderStored returns the stored (Morton) order and stores no
	// permutation.
	OrderStored
)

// ParseOrder returns the Order named auto, original or stored.
func ParseOrder(s string) (Order, error) {
	switch s {
	case "auto":
		return OrderAuto, nil
	case "original":
		return OrderOriginal, nil
	case "stored":
		return OrderStored, nil
	}
	return 0, fmt.Errorf("invalid order %q: expected auto, original or stored", s)
}

// Info is the metadata of a stored particle dataset, kept as JSON in the
// attrs of the dataset's entry array under the key "particles".
type Info struct {
	Version  int          `json:"version"`
	Count    int          `json:"count"`
	DType    codecs.DType `json:"dtype"`
	Box      float64      `json:"box"`
	Periodic bool         `json:"periodic"`
	Link     float64      `json:"link"`
	Bound    float64      `json:"bound"`
	Curve    string       `json:"curve"`
	// Ordered is true when the dataset stores its original order
	// (NAME/perm), which Read returns; otherwise Read returns the stored
	// order.
	Ordered       bool           `json:"ordered"`
	Velocities    bool           `json:"velocities"`
	VelocityBound float64        `json:"velocity_bound"`
	IDs           bool           `json:"ids"`
	Attributes    []AttrInfo     `json:"attributes"`
	Correction    CorrectionInfo `json:"correction"`
}

// AttrInfo names a stored attribute and its bound.
type AttrInfo struct {
	Name  string  `json:"name"`
	Bound float64 `json:"bound"`
}

// CorrectionInfo describes the correction data of a dataset.
type CorrectionInfo struct {
	// Pairs is the number of pairs whose linked status had to flip for the
	// positions as decoded to give the original groups.
	Pairs int `json:"pairs"`
	// Relabelled is the number of particles whose group differs from the
	// original one without the correction.
	Relabelled int `json:"relabelled"`
	// Levels counts the corrected particles at refinement levels 1 to 4;
	// Levels[4] counts the exact particles.
	Levels [levelExact]int `json:"levels"`
	// MovedParticles is the number of particles the correction moves,
	// exact ones included.
	MovedParticles int `json:"moved_particles"`
	// ExactParticles is the number of particles stored exactly.
	ExactParticles int `json:"exact_particles"`
	// DataBytes is the length of the correction data before compression.
	DataBytes int `json:"data_bytes"`
	// Rounds is the number of flag-and-refine rounds Write took.
	Rounds int `json:"rounds"`
}

// The array names of a dataset under its name prefix.
const (
	partX    = "x"
	partPerm = "perm"
	partIDs  = "id"
)

var velParts = [3]string{"vx", "vy", "vz"}
var posParts = [3]string{"x", "y", "z"}

func partName(name, part string) string { return name + "/" + part }
func attrName(name, attr string) string { return name + "/attr/" + attr }

// attrsDoc is the JSON document in the entry array's attrs.
type attrsDoc struct {
	Particles *Info `json:"particles"`
}

// ErrNotParticles is returned by Open for an array that is not the entry of
// a particle dataset.
var ErrNotParticles = errors.New("not a particle dataset")

// Validate returns the error Write returns for ds and o before it writes
// anything, so that a caller can reject bad input before it opens a store.
func (o *Options) Validate(ds *Dataset) error { return o.validate(ds) }

func (o *Options) validate(ds *Dataset) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if ds.DType != codecs.Float32 && ds.DType != codecs.Float64 {
		add("invalid dtype %s: particle values are f32 or f64", ds.DType)
	}
	n := len(ds.X)
	if n == 0 {
		add("the dataset has no particles")
	}
	if len(ds.Y) != n || len(ds.Z) != n {
		add("positions have %d, %d and %d values, expected equal lengths", len(ds.X), len(ds.Y), len(ds.Z))
	}
	if n > math.MaxInt32 {
		add("%d particles, at most %d are supported", n, math.MaxInt32)
	}
	if err := checkGeometry(Space{Box: o.Box, Periodic: o.Periodic}, o.Link); err != nil {
		errs = append(errs, err)
	}
	if !(o.Bound > 0) || math.IsInf(o.Bound, 0) {
		add("invalid bound %v: must be a finite number greater than 0", o.Bound)
	} else if o.Bound >= o.Link {
		add("invalid bound %v: must be less than the linking length %v", o.Bound, o.Link)
	}
	hasVel := ds.VX != nil || ds.VY != nil || ds.VZ != nil
	if hasVel && (len(ds.VX) != n || len(ds.VY) != n || len(ds.VZ) != n) {
		add("velocities have %d, %d and %d values for %d particles", len(ds.VX), len(ds.VY), len(ds.VZ), n)
	}
	if o.Order < OrderAuto || o.Order > OrderStored {
		add("invalid order %d: expected OrderAuto, OrderOriginal or OrderStored", o.Order)
	}
	if !(o.VelocityBound >= 0) || math.IsInf(o.VelocityBound, 0) {
		add("invalid velocity bound %v: must be a finite number, 0 for lossless", o.VelocityBound)
	}
	if ds.IDs != nil && len(ds.IDs) != n {
		add("%d ids for %d particles", len(ds.IDs), n)
	}
	seen := map[string]bool{}
	for _, a := range ds.Attributes {
		switch {
		case seen[a.Name]:
			add("attribute %q appears twice", a.Name)
		case len(a.Values) != n:
			add("attribute %q has %d values for %d particles", a.Name, len(a.Values), n)
		case !(a.Bound >= 0) || math.IsInf(a.Bound, 0):
			add("attribute %q: invalid bound %v: must be a finite number, 0 for lossless", a.Name, a.Bound)
		}
		seen[a.Name] = true
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Values: representable in the dtype, and positions inside the box up
	// to the bound.
	for d, v := range [3][]float64{ds.X, ds.Y, ds.Z} {
		for i, c := range v {
			if !(c >= -o.Bound && c <= o.Box+o.Bound) {
				return fmt.Errorf("particle %d: %s = %v is outside the box [0, %v] by more than the bound %v", i, posParts[d], c, o.Box, o.Bound)
			}
		}
	}
	check := func(what string, v []float64) error {
		for i, c := range v {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				return fmt.Errorf("particle %d: %s = %v is not finite", i, what, c)
			}
			if ds.DType == codecs.Float32 && float64(float32(c)) != c {
				return fmt.Errorf("particle %d: %s = %v is not a float32 value, but the dataset dtype is f32", i, what, c)
			}
		}
		return nil
	}
	for d, v := range [3][]float64{ds.X, ds.Y, ds.Z} {
		if err := check(posParts[d], v); err != nil {
			return err
		}
	}
	for d, v := range [3][]float64{ds.VX, ds.VY, ds.VZ} {
		if err := check(velParts[d], v); err != nil {
			return err
		}
	}
	for _, a := range ds.Attributes {
		if err := check("attribute "+a.Name, a.Values); err != nil {
			return err
		}
	}
	return nil
}

// Write stores ds as particle dataset name: the arrays name/x, name/y,
// name/z (positions in curve order), name/vx, name/vy, name/vz, name/attr/A,
// name/id, name/perm, and the entry array name with the correction data and
// the metadata. It checks every input before it writes, and removes what it
// wrote when it fails.
func Write(db *store.DB, name string, ds *Dataset, o Options) (*Info, error) {
	if err := o.validate(ds); err != nil {
		return nil, fmt.Errorf("write particles %q: %w", name, err)
	}
	for _, n := range []string{name, partName(name, partX)} {
		if _, err := db.Info(n); err == nil {
			return nil, fmt.Errorf("write particles %q: array %q: %w", name, n, store.ErrExists)
		}
	}
	w := &writer{db: db, name: name}
	info, err := w.write(ds, o)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("write particles %q: %w", name, err), w.cleanup())
	}
	return info, nil
}

type writer struct {
	db      *store.DB
	name    string
	created []string
}

func (w *writer) cleanup() error {
	var errs []error
	for _, n := range slices.Backward(w.created) {
		if err := w.db.Delete(n); err != nil {
			errs = append(errs, fmt.Errorf("remove partly written array %q: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// put creates array name with values v (float64 held values of dtype).
func (w *writer) put(name string, v any, o store.ArrayOptions) error {
	var n int
	switch t := v.(type) {
	case []float32:
		n = len(t)
	case []float64:
		n = len(t)
	case []int64:
		n = len(t)
	case []uint32:
		n = len(t)
	case []byte:
		n = len(t)
	}
	o.Shape = []int{n}
	if _, err := w.db.Create(name, o); err != nil {
		return err
	}
	w.created = append(w.created, name)
	return w.db.Write(name, chunk.Full(o.Shape), v)
}

func (w *writer) write(ds *Dataset, o Options) (*Info, error) {
	n := len(ds.X)
	space := Space{Box: o.Box, Periodic: o.Periodic}

	perm := mortonOrder(ds.X, ds.Y, ds.Z)
	orig := [3][]float64{gather(ds.X, perm), gather(ds.Y, perm), gather(ds.Z, perm)}
	groups, err := FoF(orig[0], orig[1], orig[2], space, o.Link)
	if err != nil {
		return nil, err
	}

	posOpts := store.ArrayOptions{DType: ds.DType, Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: o.Bound}}
	var dec [3][]float64
	for d := range 3 {
		part := partName(w.name, posParts[d])
		if err := w.put(part, typed(orig[d], ds.DType), posOpts); err != nil {
			return nil, err
		}
		if dec[d], err = readFloats(w.db, part, ds.DType, n); err != nil {
			return nil, err
		}
	}
	corr, st, err := planCorrection(orig, dec, groups.Labels, space, o.Link, o.Bound, ds.DType)
	if err != nil {
		return nil, err
	}
	data := appendCorrection(nil, corr)

	info := &Info{
		Version: FormatVersion, Count: n, DType: ds.DType,
		Box: o.Box, Periodic: o.Periodic, Link: o.Link,
		Bound: o.Bound, Curve: "morton", Ordered: o.Order == OrderOriginal || (o.Order == OrderAuto && ds.IDs == nil),
		VelocityBound: o.VelocityBound, IDs: ds.IDs != nil, Attributes: []AttrInfo{},
		Correction: CorrectionInfo{
			Pairs: st.Pairs, Relabelled: st.Relabelled, MovedParticles: len(corr.index),
			DataBytes: len(data), Rounds: st.Rounds,
		},
	}
	for _, l := range corr.level {
		info.Correction.Levels[l-1]++
	}
	info.Correction.ExactParticles = info.Correction.Levels[levelExact-1]

	if ds.VX != nil {
		info.Velocities = true
		vo := boundOptions(ds.DType, o.VelocityBound)
		for d, v := range [3][]float64{ds.VX, ds.VY, ds.VZ} {
			if err := w.put(partName(w.name, velParts[d]), typed(gather(v, perm), ds.DType), vo); err != nil {
				return nil, err
			}
		}
	}
	for _, a := range ds.Attributes {
		if err := w.put(attrName(w.name, a.Name), typed(gather(a.Values, perm), ds.DType), boundOptions(ds.DType, a.Bound)); err != nil {
			return nil, err
		}
		info.Attributes = append(info.Attributes, AttrInfo{Name: a.Name, Bound: a.Bound})
	}
	bytesOpts := store.ArrayOptions{DType: codecs.Uint8}
	if ds.IDs != nil {
		ids := make([]int64, n)
		for k, i := range perm {
			ids[k] = ds.IDs[i]
		}
		if err := w.put(partName(w.name, partIDs), appendDeltas(nil, ids), bytesOpts); err != nil {
			return nil, err
		}
	}
	if info.Ordered {
		p := make([]int64, n)
		for k, i := range perm {
			p[k] = int64(i)
		}
		if err := w.put(partName(w.name, partPerm), appendDeltas(nil, p), bytesOpts); err != nil {
			return nil, err
		}
	}

	attrs, err := json.Marshal(attrsDoc{Particles: info})
	if err != nil {
		return nil, err
	}
	if err := w.put(w.name, data, store.ArrayOptions{DType: codecs.Uint8, Attrs: attrs}); err != nil {
		return nil, err
	}
	return info, nil
}

func boundOptions(dtype codecs.DType, bound float64) store.ArrayOptions {
	o := store.ArrayOptions{DType: dtype}
	if bound > 0 {
		o.Bound = codecs.Bound{Mode: codecs.ModeAbs, Value: bound}
	}
	return o
}

func gather(v []float64, perm []int32) []float64 {
	out := make([]float64, len(perm))
	for k, i := range perm {
		out[k] = v[i]
	}
	return out
}
