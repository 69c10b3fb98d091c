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
const correctionVersion = 2

// appendCorrection appends the correction data of corr to dst. The layout is
// in the package documentation.
func appendCorrection(dst []byte, corr *correction) []byte {
	dst = append(dst, correctionVersion)
	dst = binary.AppendUvarint(dst, uint64(len(corr.index)))
	last := int32(-1)
	for _, i := range corr.index {
		dst = binary.AppendUvarint(dst, uint64(i-last-1))
		last = i
	}
	dst = append(dst, corr.level...)
	for _, s := range corr.steps {
		for d := range 3 {
			dst = binary.AppendVarint(dst, s[d])
		}
	}
	return dst
}

// decodeCorrection parses correction data for the decoded positions dec,
// whose coordinates are within bound of the originals. A step count must be
// within its level's limit, and an exact value within bound of its decoded
// value, as the original is. Malformed data returns an error wrapping
// store.ErrCorrupt.
func decodeCorrection(data []byte, dec [3][]float64, dtype codecs.DType, bound float64) (*correction, error) {
	n := len(dec[0])
	r := reader{data: data}
	if v := r.byte(); r.err == nil && v != correctionVersion {
		return nil, corruptf("correction data version %d, this build reads version %d", v, correctionVersion)
	}
	count := r.uvarint()
	if r.err == nil && count > uint64(n) {
		return nil, corruptf("correction data has %d particles for %d particles", count, n)
	}
	corr := &correction{}
	last := int64(-1)
	for k := uint64(0); k < count && r.err == nil; k++ {
		gap := r.uvarint()
		if r.err != nil {
			break
		}
		if gap >= uint64(n) || last+int64(gap)+1 >= int64(n) {
			return nil, corruptf("corrected particle %d is past the %d particles", k, n)
		}
		last += int64(gap) + 1
		corr.index = append(corr.index, int32(last))
	}
	if r.err == nil {
		if uint64(len(r.data)) < count {
			r.err = fmt.Errorf("data ends early")
		} else {
			corr.level = append([]uint8(nil), r.data[:count]...)
			r.data = r.data[count:]
		}
	}
	if r.err == nil {
		corr.steps = make([][3]int64, count)
	}
	for k := 0; k < len(corr.level) && r.err == nil; k++ {
		i, l := corr.index[k], int(corr.level[k])
		if l < 1 || l > levelExact {
			return nil, corruptf("corrected particle %d (index %d) has level %d, expected 1 to %d", k, i, l, levelExact)
		}
		for d := range 3 {
			s := r.varint()
			if r.err != nil {
				break
			}
			if l == levelExact {
				v, ok := fromOrderedBits(orderedBits(dec[d][i], dtype), s, dtype)
				if !ok || !(math.Abs(v-dec[d][i]) <= bound) {
					return nil, corruptf("exact particle %d (index %d) axis %d is off its decoded value %v by more than the bound %g", k, i, d, dec[d][i], bound)
				}
			} else if s < -levelLimit(l) || s > levelLimit(l) {
				return nil, corruptf("corrected particle %d (index %d) axis %d moves %d steps at level %d, at most %d are possible", k, i, d, s, l, levelLimit(l))
			}
			corr.steps[k][d] = s
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

// appendDeltas appends each value's difference from the one before (the
// first from 0) as a signed varint.
func appendDeltas(dst []byte, v []int64) []byte {
	prev := int64(0)
	for _, x := range v {
		dst = binary.AppendVarint(dst, x-prev)
		prev = x
	}
	return dst
}

// decodeDeltas reads n values written by appendDeltas.
func decodeDeltas(data []byte, n int) ([]int64, error) {
	r := reader{data: data}
	out := make([]int64, n)
	prev := int64(0)
	for k := range out {
		d := r.varint()
		if r.err != nil {
			return nil, corruptf("value %d of %d: %v", k, n, r.err)
		}
		prev += d
		out[k] = prev
	}
	if len(r.data) > 0 {
		return nil, corruptf("%d trailing bytes after %d values", len(r.data), n)
	}
	return out, nil
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
