package codecs

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ID identifies a codec inside a stream header. Assigned IDs never change.
type ID uint8

// Assigned codec IDs.
const (
	IDLossless ID = 1
	IDLorenzo  ID = 2
	IDInterp   ID = 3
	IDBlock    ID = 4
	// IDAuto names the auto selector. Streams never record it, because
	// Encode records the codec the selector picks.
	IDAuto ID = 5
)

// Params describes the chunk a codec encodes or decodes. The stream header
// carries every field, so a decoder receives the same Params as the encoder.
type Params struct {
	DType DType
	// Shape is the chunk shape in C order (slowest dimension first).
	Shape []int
	// Bound is the absolute error bound for every finite, non-fill value.
	// Zero means the values must come back bit-exact.
	Bound float64
	// HasFill reports whether Fill is set. Values equal to Fill (compared
	// after conversion to DType) come back bit-exact and carry no error.
	HasFill bool
	Fill    float64
}

// Count returns the number of values in the chunk.
func (p Params) Count() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Codec turns the raw values of one chunk into a payload and back. Raw values
// are little-endian, in C order, DType.Size() bytes each.
//
// The stream layer (Encode, Decode) adds the header and checksum, so a
// Codec handles only the payload. Implementations must be safe for concurrent use.
type Codec interface {
	ID() ID
	Name() string
	// AppendEncode appends the payload for src to dst and returns the
	// extended slice. It returns ErrUnsupported for a dtype or bound it
	// does not handle, and the stream layer then stores the chunk losslessly.
	// For a lossy codec, every finite value that is not the fill value
	// must decode to within p.Bound of its original, compared in float64.
	AppendEncode(dst, src []byte, p Params) ([]byte, error)
	// Decode decodes payload into dst, which has exactly p.Count() values.
	// A malformed payload returns an error wrapping ErrCorrupt and never
	// panics, whatever its bytes.
	Decode(dst, payload []byte, p Params) error
}

// Selector is a codec that picks another registered codec for each chunk,
// such as one that compares predictors on a sample. Encode calls Select and
// encodes with the codec it returns, so the header records that codec's ID.
// The stream layer never calls a Selector's own AppendEncode and Decode.
type Selector interface {
	Codec
	Select(src []byte, p Params) Codec
}

var (
	// ErrCorrupt marks a stream or payload that fails its checksum or
	// cannot be parsed.
	ErrCorrupt = errors.New("corrupt chunk stream")
	// ErrUnsupported is returned by a codec for input it does not handle.
	ErrUnsupported = errors.New("unsupported by codec")
)

var registry struct {
	mu     sync.RWMutex
	byID   map[ID]Codec
	byName map[string]Codec
}

// Register adds c to the registry. It panics if the ID or the name is taken,
// because that is a programming error found at start-up.
func Register(c Codec) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.byID == nil {
		registry.byID = map[ID]Codec{}
		registry.byName = map[string]Codec{}
	}
	if old, ok := registry.byID[c.ID()]; ok {
		panic(fmt.Sprintf("codecs: ID %d of %q already registered by %q", c.ID(), c.Name(), old.Name()))
	}
	if _, ok := registry.byName[c.Name()]; ok {
		panic(fmt.Sprintf("codecs: name %q already registered", c.Name()))
	}
	registry.byID[c.ID()] = c
	registry.byName[c.Name()] = c
}

// ByName returns the registered codec with the given name.
func ByName(name string) (Codec, error) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	if c, ok := registry.byName[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("unknown codec %q: registered codecs are %v", name, namesLocked())
}

// ByID returns the registered codec with the given ID.
func ByID(id ID) (Codec, error) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	if c, ok := registry.byID[id]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("unknown codec id %d: registered codecs are %v", id, namesLocked())
}

// Names returns the names of all registered codecs in sorted order.
func Names() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	names := make([]string, 0, len(registry.byName))
	for n := range registry.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
