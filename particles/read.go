package particles

import (
	"encoding/json"
	"fmt"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// ReadOptions selects how Read decodes a dataset.
type ReadOptions struct {
	// NoCorrect returns the positions as decoded, without the correction:
	// within the bound of the originals, but groups may differ.
	NoCorrect bool
}

// Open returns the metadata of particle dataset name.
func Open(db *store.DB, name string) (*Info, error) {
	ai, err := db.Info(name)
	if err != nil {
		return nil, err
	}
	var doc attrsDoc
	if len(ai.Attrs) == 0 || json.Unmarshal(ai.Attrs, &doc) != nil || doc.Particles == nil {
		return nil, fmt.Errorf("array %q: %w", name, ErrNotParticles)
	}
	info := doc.Particles
	if info.Version != FormatVersion {
		return nil, fmt.Errorf("particles %q: format version %d, this build reads version %d", name, info.Version, FormatVersion)
	}
	if ai.DType != codecs.Uint8 || info.Count < 1 || (info.DType != codecs.Float32 && info.DType != codecs.Float64) ||
		checkGeometry(Space{Box: info.Box, Periodic: info.Periodic}, info.Link) != nil || !(info.Bound > 0) {
		return nil, fmt.Errorf("particles %q: %w: invalid metadata", name, store.ErrCorrupt)
	}
	return info, nil
}

// Read returns particle dataset name in its original order, or in stored
// order when the dataset does not keep its order (Info.Ordered), with the
// correction applied unless o.NoCorrect.
func Read(db *store.DB, name string, o ReadOptions) (*Dataset, *Info, error) {
	info, err := Open(db, name)
	if err != nil {
		return nil, nil, err
	}
	n := info.Count
	ds := &Dataset{DType: info.DType}
	pos, err := ReadPositions(db, name, info)
	if err != nil {
		return nil, nil, err
	}
	if !o.NoCorrect {
		if err := Correct(db, name, info, pos); err != nil {
			return nil, nil, err
		}
	}
	order := func(v []float64) []float64 { return v }
	var perm []int64
	if info.Ordered {
		if perm, err = readPerm(db, name, n); err != nil {
			return nil, nil, err
		}
		order = func(v []float64) []float64 { return scatter(v, perm) }
	}
	ds.X, ds.Y, ds.Z = order(pos[0]), order(pos[1]), order(pos[2])
	if info.Velocities {
		var v [3][]float64
		for d := range 3 {
			if v[d], err = readFloats(db, partName(name, velParts[d]), info.DType, n); err != nil {
				return nil, nil, err
			}
		}
		ds.VX, ds.VY, ds.VZ = order(v[0]), order(v[1]), order(v[2])
	}
	for _, a := range info.Attributes {
		v, err := readFloats(db, attrName(name, a.Name), info.DType, n)
		if err != nil {
			return nil, nil, err
		}
		ds.Attributes = append(ds.Attributes, Attribute{Name: a.Name, Values: order(v), Bound: a.Bound})
	}
	if info.IDs {
		ids, err := readDeltas(db, partName(name, partIDs), n)
		if err != nil {
			return nil, nil, err
		}
		ds.IDs = ids
		if info.Ordered {
			ds.IDs = make([]int64, n)
			for k, i := range perm {
				ds.IDs[i] = ids[k]
			}
		}
	}
	return ds, info, nil
}

// ReadPositions returns the decoded positions of dataset name in stored
// order, without the correction.
func ReadPositions(db *store.DB, name string, info *Info) ([3][]float64, error) {
	var pos [3][]float64
	for d := range 3 {
		var err error
		if pos[d], err = readFloats(db, partName(name, posParts[d]), info.DType, info.Count); err != nil {
			return pos, err
		}
	}
	return pos, nil
}

// readDeltas reads the byte array name of n values written by appendDeltas.
func readDeltas(db *store.DB, name string, n int) ([]int64, error) {
	ai, err := db.Info(name)
	if err != nil {
		return nil, err
	}
	if ai.DType != codecs.Uint8 || len(ai.Shape) != 1 {
		return nil, fmt.Errorf("array %q: %w: dtype %s, expected 1-D u8", name, store.ErrCorrupt, ai.DType)
	}
	data := make([]byte, ai.Shape[0])
	if err := db.Read(name, chunk.Full(ai.Shape), data); err != nil {
		return nil, err
	}
	v, err := decodeDeltas(data, n)
	if err != nil {
		return nil, fmt.Errorf("array %q: %w", name, err)
	}
	return v, nil
}

// readPerm reads the original index of each stored particle and checks that
// they form a permutation.
func readPerm(db *store.DB, name string, n int) ([]int64, error) {
	perm, err := readDeltas(db, partName(name, partPerm), n)
	if err != nil {
		return nil, err
	}
	seen := make([]bool, n)
	for k, i := range perm {
		if i < 0 || i >= int64(n) || seen[i] {
			return nil, fmt.Errorf("particles %q: %w: permutation entry %d is %d, not a new index below %d", name, store.ErrCorrupt, k, i, n)
		}
		seen[i] = true
	}
	return perm, nil
}

// Correct applies the stored correction of dataset name to pos, the decoded
// positions in stored order. It fails with an error wrapping
// store.ErrCorrupt when the correction data is malformed.
func Correct(db *store.DB, name string, info *Info, pos [3][]float64) error {
	ai, err := db.Info(name)
	if err != nil {
		return err
	}
	data := make([]byte, ai.Shape[0])
	if err := db.Read(name, chunk.Full(ai.Shape), data); err != nil {
		return err
	}
	corr, err := decodeCorrection(data, pos, info.DType, info.Bound)
	if err != nil {
		return fmt.Errorf("particles %q: %w", name, err)
	}
	corr.apply(pos, info.Bound, info.DType)
	return nil
}

func scatter(v []float64, perm []int64) []float64 {
	out := make([]float64, len(v))
	for k, i := range perm {
		out[i] = v[k]
	}
	return out
}

// Stat is the storage summary of a particle dataset.
type Stat struct {
	Info *Info `json:"info"`
	// RawBytes is the size of the values as given to Write: positions,
	// velocities, attributes and ids.
	RawBytes int64 `json:"raw_bytes"`
	// StoredBytes is the size of every array of the dataset in the store.
	StoredBytes int64   `json:"stored_bytes"`
	Ratio       float64 `json:"ratio"`
	// PositionBytes is the stored size of x, y and z.
	PositionBytes int64 `json:"position_bytes"`
	// PositionRatio is the raw size of the positions over PositionBytes.
	PositionRatio float64 `json:"position_ratio"`
	// CorrectionBytes is the size the correction adds to the store: its
	// stored correction data. Positions are encoded at the bound itself.
	CorrectionBytes int64 `json:"correction_bytes"`
	// Arrays holds the stored size of each array by name.
	Arrays map[string]int64 `json:"arrays"`
}

// StatDataset returns the storage summary of particle dataset name.
func StatDataset(db *store.DB, name string) (*Stat, error) {
	info, err := Open(db, name)
	if err != nil {
		return nil, err
	}
	st := &Stat{Info: info, Arrays: map[string]int64{}}
	names := []string{name}
	if info.Ordered {
		names = append(names, partName(name, partPerm))
	}
	for _, p := range posParts {
		names = append(names, partName(name, p))
	}
	if info.Velocities {
		for _, p := range velParts {
			names = append(names, partName(name, p))
		}
	}
	for _, a := range info.Attributes {
		names = append(names, attrName(name, a.Name))
	}
	if info.IDs {
		names = append(names, partName(name, partIDs))
		st.RawBytes += 8 * int64(info.Count)
	}
	for _, n := range names {
		as, err := db.Stat(n)
		if err != nil {
			return nil, err
		}
		st.Arrays[n] = as.StoredBytes
		st.StoredBytes += as.StoredBytes
		if n != name && n != partName(name, partPerm) && n != partName(name, partIDs) {
			st.RawBytes += as.RawBytes
		}
	}
	for _, p := range posParts {
		st.PositionBytes += st.Arrays[partName(name, p)]
	}
	size := int64(info.DType.Size())
	posRaw := 3 * int64(info.Count) * size
	st.PositionRatio = float64(posRaw) / float64(st.PositionBytes)
	st.Ratio = float64(st.RawBytes) / float64(st.StoredBytes)
	st.CorrectionBytes = st.Arrays[name]
	return st, nil
}
