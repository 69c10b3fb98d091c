package particles

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klauspost/compress/huff0"
)

// blockSize is the most raw bytes of one block of an entropy-coded
// section, below huff0's limit of 128 KiB.
const blockSize = 1 << 16

// Block modes of an entropy-coded section.
const (
	blockRaw  = 0 // the bytes as they are
	blockHuff = 1 // huff0 1X: table, then the coded bytes
	blockRLE  = 2 // one byte, repeated
)

// appendSection appends raw as an entropy-coded section: uvarint len(raw),
// then for each block of up to blockSize bytes a mode byte, a uvarint
// payload length and the payload. The correction's byte streams are short
// and dense, where zstd stores them unchanged, but their byte frequencies
// are skewed, which Huffman coding uses.
func appendSection(dst, raw []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(raw)))
	for off := 0; off < len(raw); off += blockSize {
		block := raw[off:min(off+blockSize, len(raw))]
		mode, payload := byte(blockRaw), block
		out, _, err := huff0.Compress1X(block, nil)
		switch {
		case err == nil && len(out) < len(block):
			mode, payload = blockHuff, out
		case errors.Is(err, huff0.ErrUseRLE):
			mode, payload = blockRLE, block[:1]
		}
		dst = append(dst, mode)
		dst = binary.AppendUvarint(dst, uint64(len(payload)))
		dst = append(dst, payload...)
	}
	return dst
}

// section reads a section written by appendSection of at most limit raw
// bytes.
func (r *reader) section(limit int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(limit) {
		r.err = fmt.Errorf("section of %d bytes, at most %d expected", n, limit)
		return nil
	}
	out := make([]byte, 0, n)
	for uint64(len(out)) < n && r.err == nil {
		want := min(int(n)-len(out), blockSize)
		mode := r.byte()
		size := r.uvarint()
		if r.err != nil {
			return nil
		}
		if size > uint64(len(r.data)) {
			r.err = fmt.Errorf("block of %d bytes past the end of the data", size)
			return nil
		}
		payload := r.data[:size]
		r.data = r.data[size:]
		switch mode {
		case blockRaw:
			if len(payload) != want {
				r.err = fmt.Errorf("raw block of %d bytes, expected %d", len(payload), want)
				return nil
			}
			out = append(out, payload...)
		case blockRLE:
			if len(payload) != 1 {
				r.err = fmt.Errorf("repeated-byte block of %d bytes, expected 1", len(payload))
				return nil
			}
			for range want {
				out = append(out, payload[0])
			}
		case blockHuff:
			s, rest, err := huff0.ReadTable(payload, nil)
			if err != nil {
				r.err = fmt.Errorf("Huffman table: %w", err)
				return nil
			}
			s.MaxDecodedSize = want
			dec, err := s.Decoder().Decompress1X(make([]byte, 0, want), rest)
			if err != nil || len(dec) != want {
				r.err = fmt.Errorf("Huffman block decoded to %d bytes, expected %d: %v", len(dec), want, err)
				return nil
			}
			out = append(out, dec...)
		default:
			r.err = fmt.Errorf("block mode %d, expected %d to %d", mode, blockRaw, blockRLE)
			return nil
		}
	}
	return out
}
