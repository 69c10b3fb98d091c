package codecs

import (
	"fmt"
	"strings"
)

// DType is the element type of an array or chunk. Its numeric value is
// written into every stream header, so existing values never change.
type DType uint8

// Element types. Floating-point types may be stored lossily; integer types
// are always stored losslessly.
const (
	Float32 DType = 1
	Float64 DType = 2
	Int8    DType = 3
	Int16   DType = 4
	Int32   DType = 5
	Int64   DType = 6
	Uint8   DType = 7
	Uint16  DType = 8
	Uint32  DType = 9
	Uint64  DType = 10
)

var dtypeNames = map[DType]string{
	Float32: "f32", Float64: "f64",
	Int8: "i8", Int16: "i16", Int32: "i32", Int64: "i64",
	Uint8: "u8", Uint16: "u16", Uint32: "u32", Uint64: "u64",
}

var dtypeSizes = map[DType]int{
	Float32: 4, Float64: 8,
	Int8: 1, Int16: 2, Int32: 4, Int64: 8,
	Uint8: 1, Uint16: 2, Uint32: 4, Uint64: 8,
}

// ParseDType parses a dtype name such as "f32" or "u16". The numpy spellings
// "float32", "float64", "int8" ... "uint64" are accepted too.
func ParseDType(s string) (DType, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(name, "float"):
		name = "f" + strings.TrimPrefix(name, "float")
	case strings.HasPrefix(name, "uint"):
		name = "u" + strings.TrimPrefix(name, "uint")
	case strings.HasPrefix(name, "int"):
		name = "i" + strings.TrimPrefix(name, "int")
	}
	for d, n := range dtypeNames {
		if n == name {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown dtype %q: allowed are f32, f64, i8, i16, i32, i64, u8, u16, u32, u64", s)
}

// Valid reports whether d is one of the defined element types.
func (d DType) Valid() bool { _, ok := dtypeSizes[d]; return ok }

// Size returns the size of one element in bytes, or 0 for an invalid dtype.
func (d DType) Size() int { return dtypeSizes[d] }

// IsFloat reports whether d is float32 or float64.
func (d DType) IsFloat() bool { return d == Float32 || d == Float64 }

func (d DType) String() string {
	if n, ok := dtypeNames[d]; ok {
		return n
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// MarshalText encodes d as its name, such as "f32".
func (d DType) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("invalid dtype %d", uint8(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses a dtype name.
func (d *DType) UnmarshalText(b []byte) error {
	v, err := ParseDType(string(b))
	*d = v
	return err
}
