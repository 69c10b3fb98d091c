// Package codecs turns chunks of values into self-describing, checksummed
// streams and back, under an error bound.
//
// A Codec encodes the raw values of one chunk (little-endian, C order) into
// a payload. Encode wraps the payload in a stream whose header carries
// everything needed to decode and verify it without the store's catalog;
// Decode checks the checksum before any payload byte is interpreted. The
// store keeps streams byte for byte as Pebble values.
//
// # Codecs
//
//	ID  name      dtypes        what it does
//	1   lossless  all           byte shuffle, then zstd; exact
//	2   lorenzo   f32, f64      Lorenzo prediction from reconstructed values,
//	                            linear quantization with bins of 2*bound,
//	                            canonical Huffman coding, zstd
//	3   interp    f32, f64      multilevel interpolation prediction (interp.go)
//	4   (block)                 reserved for the block codec
//	5   auto      f32, f64      selector: picks another codec per chunk, and
//	                            streams record that codec, never 5
//
// Codec IDs are written into streams and never reused. Encode falls back to
// lossless when the bound is 0, when the codec does not support the dtype,
// and when the lossy payload is not smaller than the raw values.
//
// # Error bound
//
// For a lossy codec with absolute bound eb, every finite value x that is not
// the fill value decodes to x' with |x - x'| <= eb, compared in float64
// after conversion to the dtype. NaN, +Inf and -Inf come back bit-exact, and
// so do values equal to the fill value. Encoders check every value and store
// any value that would miss the bound verbatim.
//
// # Stream format, version 1
//
// All integers are little-endian. n is the number of dimensions (1 to 8).
//
//	offset   size  field
//	0        4     magic "EPSC"
//	4        1     format version, 1
//	5        1     codec ID
//	6        1     dtype (1 f32, 2 f64, 3 i8, 4 i16, 5 i32, 6 i64,
//	               7 u8, 8 u16, 9 u32, 10 u64)
//	7        1     n, the number of dimensions
//	8        1     error mode as the user stated it (0 none, 1 abs, 2 rel,
//	               3 pwrel, 4 psnr, 5 norm)
//	9        1     flags: bit 0 set when a fill value is present;
//	               the other bits are zero
//	10       1     transform: 0 none, 1 point-wise relative, 2 temporal
//	               residual (see Transform in stream.go)
//	11       1     reserved, zero
//	12       8     bound value as the user stated it (float64)
//	20       8     absolute bound the codec applied (float64; 0 = exact)
//	28       8     fill value (float64; 0 when absent)
//	36       8     value count, the product of the shape (uint64)
//	44       4*n   shape, slowest dimension first (uint32 each, >= 1)
//	44+4n    4     payload length in bytes (uint32)
//	48+4n    4     CRC-32C (Castagnoli) of bytes [0, 48+4n) followed by
//	               the payload
//	52+4n    ...   payload
//
// The checksum covers the header and the payload, so a flipped bit anywhere
// is detected. A reader rejects any other magic or version, unknown flags,
// non-zero reserved bytes, a count that does not match the shape, and a
// payload length that does not match the stream. TestStreamGolden pins these
// bytes.
//
// # Payloads
//
// lossless: when the dtype is 1 byte wide, the values; otherwise byte k of
// every value grouped together for k = 0 .. size-1 (a byte shuffle). Either
// way the bytes are stored as a uvarint length followed by one zstd frame.
//
// lorenzo: see the comment at the top of lorenzo.go, which draws its layout
// field by field.
//
// NOTE: streams are little-endian and the codecs view chunk bytes in place
// as float32 or float64, so epsilon builds only for little-endian hosts.
package codecs
