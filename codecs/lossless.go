package codecs

// Lossless is the byte-shuffle + zstd codec. It stores every dtype bit-exact.
var Lossless Codec = losslessCodec{}

func init() { Register(Lossless) }

type losslessCodec struct{}

func (losslessCodec) ID() ID       { return IDLossless }
func (losslessCodec) Name() string { return "lossless" }

// AppendEncode groups byte k of every value together (a byte shuffle), which
// puts the slowly varying sign and exponent bytes side by side, then
// compresses the result with zstd.
func (losslessCodec) AppendEncode(dst, src []byte, p Params) ([]byte, error) {
	size := p.DType.Size()
	if size == 1 {
		return appendZstd(dst, src), nil
	}
	buf := getBytes(len(src))
	defer putBytes(buf)
	shuffle(*buf, src, size)
	return appendZstd(dst, *buf), nil
}

func (losslessCodec) Decode(dst, payload []byte, p Params) error {
	size := p.DType.Size()
	if size == 1 {
		out, _, err := readZstd(dst, payload, len(dst))
		if err != nil {
			return err
		}
		if len(out) != len(dst) {
			return corruptf("lossless payload decoded to %d bytes, expected %d", len(out), len(dst))
		}
		if &out[0] != &dst[0] {
			copy(dst, out)
		}
		return nil
	}
	buf := getBytes(len(dst))
	defer putBytes(buf)
	out, _, err := readZstd(*buf, payload, len(dst))
	if err != nil {
		return err
	}
	if len(out) != len(dst) {
		return corruptf("lossless payload decoded to %d bytes, expected %d", len(out), len(dst))
	}
	unshuffle(dst, out, size)
	return nil
}

// shuffle writes byte k of value i of src to dst[k*n+i], n = len(src)/size.
func shuffle(dst, src []byte, size int) {
	n := len(src) / size
	for k := 0; k < size; k++ {
		plane := dst[k*n : (k+1)*n]
		for i := range plane {
			plane[i] = src[i*size+k]
		}
	}
}

// unshuffle inverts shuffle.
func unshuffle(dst, src []byte, size int) {
	n := len(dst) / size
	for k := 0; k < size; k++ {
		plane := src[k*n : (k+1)*n]
		for i, b := range plane {
			dst[i*size+k] = b
		}
	}
}
