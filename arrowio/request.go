package arrowio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// maxRequestBytes bounds the JSON of a ticket, command or action body.
const maxRequestBytes = 64 << 10

// maxDims bounds the number of dimensions a request may name.
const maxDims = 32

// Ticket is the JSON a DoGet ticket carries: exactly one of Array and
// Particles.
//
//	{"array": "TS"}
//	{"array": "TS", "region": [[0, 5], [0, 192], [0, 288]]}
//	{"particles": "halo", "group": true}
type Ticket struct {
	Array     string  `json:"array,omitempty"`
	Region    [][]int `json:"region,omitempty"`
	Particles string  `json:"particles,omitempty"`
	Group     bool    `json:"group,omitempty"`
}

// ParseTicket parses and checks a ticket. Errors wrap ErrInvalidRequest and
// give the reason.
func ParseTicket(b []byte) (Ticket, error) {
	var t Ticket
	if err := decodeStrict(b, &t); err != nil {
		return t, fmt.Errorf("%w: ticket: %v", ErrInvalidRequest, err)
	}
	switch {
	case t.Array == "" && t.Particles == "":
		return t, fmt.Errorf(`%w: ticket names neither "array" nor "particles"`, ErrInvalidRequest)
	case t.Array != "" && t.Particles != "":
		return t, fmt.Errorf(`%w: ticket names both "array" %q and "particles" %q, expected one`, ErrInvalidRequest, t.Array, t.Particles)
	case t.Array != "" && t.Group:
		return t, fmt.Errorf(`%w: ticket for array %q sets "group", which applies to particles only`, ErrInvalidRequest, t.Array)
	case t.Particles != "" && t.Region != nil:
		return t, fmt.Errorf(`%w: ticket for particles %q sets "region", which applies to arrays only`, ErrInvalidRequest, t.Particles)
	case len(t.Region) > maxDims:
		return t, fmt.Errorf("%w: region has %d dimensions, at most %d are allowed", ErrInvalidRequest, len(t.Region), maxDims)
	}
	return t, nil
}

// RegionIn returns the ticket's region in an array of shape: the whole
// array when the ticket names none. Errors wrap ErrInvalidRequest.
func (t Ticket) RegionIn(shape []int) (chunk.Region, error) {
	if t.Region == nil {
		return chunk.Full(shape), nil
	}
	r := chunk.Region{Start: make([]int, len(t.Region)), Stop: make([]int, len(t.Region))}
	for i, p := range t.Region {
		if len(p) != 2 {
			return r, fmt.Errorf("%w: region dimension %d is %v, expected [start, stop]", ErrInvalidRequest, i, p)
		}
		r.Start[i], r.Stop[i] = p[0], p[1]
	}
	if err := r.ValidateIn(shape); err != nil {
		return r, fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	return r, nil
}

// Marshal returns the ticket as JSON.
func (t Ticket) Marshal() []byte { return []byte(jsonString(t)) }

// PutCommand is the JSON of a DoPut descriptor command: create array Create
// from the record batches that follow.
//
//	{"create": "TS", "mode": "rel", "bound": 1e-4}
//	{"create": "T", "mode": "abs", "bound": 0.01, "codec": "lorenzo", "chunks": [1, 64, 128],
//	 "shape": [14, 64, 128], "value_range": [190.0, 311.0], "fill": 1e35}
//
// Shape may be left out when the schema metadata carries epsilon.shape.
// Mode rel needs ValueRange, the [min, max] the bound is relative to,
// because the server stores batches as they arrive and cannot scan the
// whole array first.
type PutCommand struct {
	Create     string          `json:"create"`
	Mode       string          `json:"mode"`
	Bound      float64         `json:"bound,omitempty"`
	Codec      string          `json:"codec,omitempty"`
	Chunks     []int           `json:"chunks,omitempty"`
	Shape      []int           `json:"shape,omitempty"`
	ValueRange *[2]float64     `json:"value_range,omitempty"`
	Fill       *float64        `json:"fill,omitempty"`
	Attrs      json.RawMessage `json:"attrs,omitempty"`
}

// ParsePutCommand parses and checks a DoPut command. Errors wrap
// ErrInvalidRequest and give the reason.
func ParsePutCommand(b []byte) (PutCommand, codecs.Bound, error) {
	var c PutCommand
	if err := decodeStrict(b, &c); err != nil {
		return c, codecs.Bound{}, fmt.Errorf("%w: command: %v", ErrInvalidRequest, err)
	}
	if c.Create == "" {
		return c, codecs.Bound{}, fmt.Errorf(`%w: command has no "create" with the name of the array to create`, ErrInvalidRequest)
	}
	if c.Mode == "" {
		return c, codecs.Bound{}, fmt.Errorf(`%w: command has no "mode": allowed are abs, rel and none`, ErrInvalidRequest)
	}
	mode, err := codecs.ParseMode(c.Mode)
	if err != nil {
		return c, codecs.Bound{}, fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	bound := codecs.Bound{Mode: mode, Value: c.Bound}
	if err := bound.Validate(); err != nil {
		return c, bound, fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	if len(c.Shape) > maxDims || len(c.Chunks) > maxDims {
		return c, bound, fmt.Errorf("%w: shape or chunks have more than %d dimensions", ErrInvalidRequest, maxDims)
	}
	if c.Shape != nil {
		if err := chunk.Shape(c.Shape).Validate(); err != nil {
			return c, bound, fmt.Errorf("%w: shape: %v", ErrInvalidRequest, err)
		}
	}
	if c.ValueRange != nil {
		lo, hi := c.ValueRange[0], c.ValueRange[1]
		if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo > hi {
			return c, bound, fmt.Errorf("%w: value_range [%v, %v]: must be finite with min <= max", ErrInvalidRequest, lo, hi)
		}
	}
	if mode == codecs.ModeRel && c.ValueRange == nil {
		return c, bound, fmt.Errorf(`%w: mode rel needs "value_range": [min, max] of the finite, non-fill values, because the server stores batches as they arrive`, ErrInvalidRequest)
	}
	return c, bound, nil
}

// ActionBody is the JSON body of the stat action: {"name": "TS"}.
type ActionBody struct {
	Name string `json:"name"`
}

// ParseActionBody parses the body of an action. Errors wrap
// ErrInvalidRequest.
func ParseActionBody(b []byte) (ActionBody, error) {
	var a ActionBody
	if err := decodeStrict(b, &a); err != nil {
		return a, fmt.Errorf("%w: action body: %v", ErrInvalidRequest, err)
	}
	if a.Name == "" {
		return a, fmt.Errorf(`%w: action body has no "name"`, ErrInvalidRequest)
	}
	return a, nil
}

// decodeStrict decodes exactly one JSON object of at most maxRequestBytes
// into v and rejects unknown fields.
func decodeStrict(b []byte, v any) error {
	if len(b) > maxRequestBytes {
		return fmt.Errorf("%d bytes, at most %d are allowed", len(b), maxRequestBytes)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fmt.Errorf("empty, expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON %.80q: %v", b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("invalid JSON %.80q: data after the object", b)
	}
	return nil
}
