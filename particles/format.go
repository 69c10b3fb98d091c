package particles

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

// correctionVersion is the version of the correction data layout, the first
// byte of the data.
const correctionVersion = 1

// appendCorrection appends the correction data of corr to dst. dec holds the
// decoded positions (stored order) that exact particles are coded against.
// The layout is in the package documentation.
func appendCorrection(dst []byte, corr *correction, dec [3][]float64, dtype codecs.DType) []byte {
	dst = append(dst, correctionVersion)
	dst = binary.AppendUvarint(dst, uint64(len(corr.pairs)))
	prev := int32(0)
	for _, p := range corr.pairs {
		dst = binary.AppendUvarint(dst, uint64(p[0]-prev))
		dst = binary.AppendUvarint(dst, uint64(p[1]-p[0]-1))
		prev = p[0]
	}
	dst = binary.AppendUvarint(dst, uint64(len(corr.exact)))
	last := int32(-1)
	for _, i := range corr.exact {
		dst = binary.AppendUvarint(dst, uint64(i-last-1))
		last = i
	}
	for k, i := range corr.exact {
		for d := range 3 {
			dst = binary.AppendVarint(dst, orderedBits(corr.exactPos[d][k], dtype)-orderedBits(dec[d][i], dtype))
		}
	}
	return dst
}

// decodeCorrection parses correction data for n particles whose decoded
// positions are dec. Exact positions must lie within encodeBound of their
// decoded positions, as the codec guarantees. Malformed data returns an
// error wrapping store.ErrCorrupt.
func decodeCorrection(data []byte, dec [3][]float64, dtype codecs.DType, encodeBound float64) (*correction, error) {
	n := len(dec[0])
	r := reader{data: data}
	if v := r.byte(); r.err == nil && v != correctionVersion {
		return nil, corruptf("correction data version %d, this build reads version %d", v, correctionVersion)
	}
	corr := &correction{}
	count := r.uvarint()
	if r.err == nil && count > uint64(n)*uint64(n) {
		return nil, corruptf("correction data has %d pairs for %d particles", count, n)
	}
	prev := uint64(0)
	var prevJ uint64
	for k := uint64(0); k < count && r.err == nil; k++ {
		di, dj := r.uvarint(), r.uvarint()
		i := prev + di
		j := i + dj + 1
		if r.err != nil {
			break
		}
		if di > uint64(n) || dj > uint64(n) || j >= uint64(n) {
			return nil, corruptf("correction pair %d is (%d, %d), outside %d particles", k, i, j, n)
		}
		if k > 0 && di == 0 && j <= prevJ {
			return nil, corruptf("correction pair %d (%d, %d) is out of order", k, i, j)
		}
		corr.pairs = append(corr.pairs, [2]int32{int32(i), int32(j)})
		prev, prevJ = i, j
	}
	count = r.uvarint()
	if r.err == nil && count > uint64(n) {
		return nil, corruptf("correction data has %d exact particles for %d particles", count, n)
	}
	last := int64(-1)
	for k := uint64(0); k < count && r.err == nil; k++ {
		gap := r.uvarint()
		if r.err != nil {
			break
		}
		if gap >= uint64(n) || last+int64(gap)+1 >= int64(n) {
			return nil, corruptf("exact particle %d is past the %d particles", k, n)
		}
		last += int64(gap) + 1
		corr.exact = append(corr.exact, int32(last))
	}
	for k, i := range corr.exact {
		for d := range 3 {
			delta := r.varint()
			if r.err != nil {
				break
			}
			v, ok := fromOrderedBits(orderedBits(dec[d][i], dtype), delta, dtype)
			if !ok || !(math.Abs(v-dec[d][i]) <= encodeBound) {
				return nil, corruptf("exact particle %d (index %d) axis %d is off its decoded value %v by more than the encode bound %g", k, i, d, dec[d][i], encodeBound)
			}
			corr.exactPos[d] = append(corr.exactPos[d], v)
		}
	}
	if r.err != nil {
		return nil, corruptf("correction data: %v", r.err)
	}
	if len(r.data) > 0 {
		return nil, corruptf("correction data has %d trailing bytes", len(r.data))
	}
	return corr, nil
}

// orderedBits maps a value of dtype to an integer that orders like the
// value, so the difference of two values counts the representable values
// between them.
func orderedBits(v float64, dtype codecs.DType) int64 {
	if dtype == codecs.Float32 {
		b := int64(math.Float32bits(float32(v)))
		if b&(1<<31) != 0 {
			return -(b &^ (1 << 31))
		}
		return b
	}
	b := math.Float64bits(v)
	if b&(1<<63) != 0 {
		return -int64(b &^ (1 << 63))
	}
	return int64(b)
}

// fromOrderedBits returns the value whose ordered bits are base+delta, and
// false when that is not a finite value of dtype.
func fromOrderedBits(base, delta int64, dtype codecs.DType) (float64, bool) {
	o := base + delta
	if (delta > 0 && o < base) || (delta < 0 && o > base) {
		return 0, false // overflow
	}
	var v float64
	if dtype == codecs.Float32 {
		if o > math.MaxUint32>>1 || o < -(math.MaxUint32>>1) {
			return 0, false
		}
		b := uint32(o)
		if o < 0 {
			b = uint32(-o) | 1<<31
		}
		v = float64(math.Float32frombits(b))
	} else {
		b := uint64(o)
		if o < 0 {
			b = uint64(-o) | 1<<63
		}
		v = math.Float64frombits(b)
	}
	return v, !math.IsNaN(v) && !math.IsInf(v, 0)
}

type reader struct {
	data []byte
	err  error
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.data) == 0 {
		r.err = fmt.Errorf("data ends early")
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data)
	if n <= 0 {
		r.err = fmt.Errorf("unreadable varint")
		return 0
	}
	r.data = r.data[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.data)
	if n <= 0 {
		r.err = fmt.Errorf("unreadable varint")
		return 0
	}
	r.data = r.data[n:]
	return v
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", store.ErrCorrupt, fmt.Sprintf(format, args...))
}
