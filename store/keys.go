package store

import (
	"encoding/binary"
	"fmt"
)

// Key prefixes. Every key of the store starts with one of these bytes; see
// the package documentation for the full layout.
const (
	prefixMeta    byte = 0x00
	prefixCatalog byte = 0x01
	prefixChunk   byte = 0x02
	// prefixCoverage keys hold the coverage bitmap of a partly written
	// chunk; their suffix is that of the chunk key.
	prefixCoverage byte = 0x03
)

var (
	keyFormatVersion = []byte{prefixMeta, 'v'}
	keyNextID        = []byte{prefixMeta, 'n'}
)

// pendingKey returns the key of the record of an import in progress: the
// catalog entry the import publishes when its last chunk is committed.
func pendingKey(name string) []byte {
	return append([]byte{prefixMeta, 'i'}, name...)
}

// pendingBounds returns the key range that holds every pending import.
func pendingBounds() (lower, upper []byte) {
	return []byte{prefixMeta, 'i'}, []byte{prefixMeta, 'i' + 1}
}

// catalogKey returns the key of the catalog entry of an array.
func catalogKey(name string) []byte {
	return append([]byte{prefixCatalog}, name...)
}

// catalogBounds returns the key range that holds every catalog entry.
func catalogBounds() (lower, upper []byte) {
	return []byte{prefixCatalog}, []byte{prefixCatalog + 1}
}

// chunkPrefix returns the common prefix of all chunk keys of array id.
func chunkPrefix(id uint64) []byte {
	k := make([]byte, 9, 9+4*8)
	k[0] = prefixChunk
	binary.BigEndian.PutUint64(k[1:], id)
	return k
}

// chunkBounds returns the key range that holds every chunk of array id.
func chunkBounds(id uint64) (lower, upper []byte) {
	return chunkPrefix(id), chunkPrefix(id + 1)
}

// appendChunkKey appends the key of chunk coords of array id to dst.
// Coordinates are big-endian, so byte order is the C order of the grid.
func appendChunkKey(dst []byte, id uint64, coords []int) []byte {
	return appendCoordKey(dst, prefixChunk, id, coords)
}

// appendCoverageKey appends the key of the coverage bitmap of chunk coords.
func appendCoverageKey(dst []byte, id uint64, coords []int) []byte {
	return appendCoordKey(dst, prefixCoverage, id, coords)
}

// coverageBounds returns the key range of every coverage bitmap of array id.
func coverageBounds(id uint64) (lower, upper []byte) {
	lower, upper = chunkBounds(id)
	lower[0], upper[0] = prefixCoverage, prefixCoverage
	return lower, upper
}

func appendCoordKey(dst []byte, prefix byte, id uint64, coords []int) []byte {
	dst = append(dst, prefix)
	dst = binary.BigEndian.AppendUint64(dst, id)
	for _, c := range coords {
		dst = binary.BigEndian.AppendUint32(dst, uint32(c))
	}
	return dst
}

// parseChunkKey parses a chunk key of an array with ndim dimensions into
// coords, which must have length ndim.
func parseChunkKey(key []byte, coords []int) (id uint64, err error) {
	if len(key) != 9+4*len(coords) || key[0] != prefixChunk {
		return 0, fmt.Errorf("malformed chunk key %x for %d dimensions", key, len(coords))
	}
	id = binary.BigEndian.Uint64(key[1:9])
	for i := range coords {
		coords[i] = int(binary.BigEndian.Uint32(key[9+4*i:]))
	}
	return id, nil
}
