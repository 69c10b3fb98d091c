// Package npy reads and writes the header of NumPy .npy files (format
// versions 1.0, 2.0 and 3.0), so arrays can move between epsilon and numpy
// without a conversion step. Only little-endian (or single-byte) numeric
// dtypes in C order are supported, the layout epsilon stores.
package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/epsilon-db/epsilon/codecs"
)

var magic = []byte("\x93NUMPY")

// Header is the parsed header of an .npy file.
type Header struct {
	DType codecs.DType
	Shape []int
	// DataOffset is the byte offset of the first value.
	DataOffset int64
}

var descrs = map[string]codecs.DType{
	"<f4": codecs.Float32, "<f8": codecs.Float64,
	"|i1": codecs.Int8, "<i2": codecs.Int16, "<i4": codecs.Int32, "<i8": codecs.Int64,
	"|u1": codecs.Uint8, "<u2": codecs.Uint16, "<u4": codecs.Uint32, "<u8": codecs.Uint64,
}

var (
	descrRe   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	fortranRe = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	shapeRe   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// ReadHeader parses the header at the start of r.
func ReadHeader(r io.Reader) (*Header, error) {
	pre := make([]byte, 8)
	if _, err := io.ReadFull(r, pre); err != nil {
		return nil, fmt.Errorf("npy: read magic: %w", err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return nil, fmt.Errorf("npy: not an .npy file (magic %q)", pre[:6])
	}
	major := pre[6]
	var hlen, off int
	switch major {
	case 1:
		b := make([]byte, 2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("npy: read header length: %w", err)
		}
		hlen, off = int(binary.LittleEndian.Uint16(b)), 10
	case 2, 3:
		b := make([]byte, 4)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("npy: read header length: %w", err)
		}
		hlen, off = int(binary.LittleEndian.Uint32(b)), 12
	default:
		return nil, fmt.Errorf("npy: format version %d.%d, supported are 1.0, 2.0 and 3.0", major, pre[7])
	}
	if hlen > 1<<20 {
		return nil, fmt.Errorf("npy: header length %d exceeds 1 MiB", hlen)
	}
	text := make([]byte, hlen)
	if _, err := io.ReadFull(r, text); err != nil {
		return nil, fmt.Errorf("npy: read header: %w", err)
	}
	return parseDict(string(text), int64(off+hlen))
}

func parseDict(text string, offset int64) (*Header, error) {
	// Python keeps the last of repeated keys, and these patterns would find
	// the first, so a repeated key is rejected rather than read otherwise
	// than numpy reads it.
	for _, key := range []string{"descr", "fortran_order", "shape"} {
		if n := strings.Count(text, "'"+key+"'"); n > 1 {
			return nil, fmt.Errorf("npy: header names '%s' more than once: %.100q", key, text)
		}
	}
	m := descrRe.FindStringSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("npy: header has no descr: %.100q", text)
	}
	descr := m[1]
	if descr == "<u1" || descr == "<i1" {
		descr = "|" + descr[1:]
	}
	dtype, ok := descrs[descr]
	if !ok {
		return nil, fmt.Errorf("npy: dtype %q not supported: allowed are little-endian f4, f8, i1..i8, u1..u8", m[1])
	}
	if f := fortranRe.FindStringSubmatch(text); f == nil || f[1] != "False" {
		return nil, fmt.Errorf("npy: only C-order arrays are supported (fortran_order must be False)")
	}
	s := shapeRe.FindStringSubmatch(text)
	if s == nil {
		return nil, fmt.Errorf("npy: header has no shape: %.100q", text)
	}
	var shape []int
	for _, part := range strings.Split(s[1], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := strconv.Atoi(strings.TrimSuffix(part, "L"))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("npy: invalid shape entry %q", part)
		}
		shape = append(shape, d)
	}
	if len(shape) == 0 {
		shape = []int{1} // a 0-d array holds one value
	}
	return &Header{DType: dtype, Shape: shape, DataOffset: offset}, nil
}

// AppendHeader appends a version 1.0 header (2.0 when it does not fit) for
// an array of dtype and shape, padded so the data starts at a multiple of 64
// bytes as numpy writes it.
func AppendHeader(dst []byte, dtype codecs.DType, shape []int) ([]byte, error) {
	var descr string
	for d, t := range descrs {
		if t == dtype {
			descr = d
		}
	}
	if descr == "" {
		return dst, fmt.Errorf("npy: dtype %s has no .npy form", dtype)
	}
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(parts, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	for _, v := range []struct {
		major  byte
		prefix int
	}{{1, 10}, {2, 12}} {
		total := v.prefix + len(dict) + 1
		pad := (64 - total%64) % 64
		hlen := len(dict) + pad + 1
		if v.major == 1 && hlen > 0xffff {
			continue
		}
		dst = append(dst, magic...)
		dst = append(dst, v.major, 0)
		if v.major == 1 {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(hlen))
		} else {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(hlen))
		}
		dst = append(dst, dict...)
		dst = append(dst, bytes.Repeat([]byte{' '}, pad)...)
		return append(dst, '\n'), nil
	}
	return dst, fmt.Errorf("npy: header for shape %v too long", shape)
}
