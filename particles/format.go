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
	var gaps, symbols, steps []byte
	last := int32(-1)
	for k, i := range corr.index {
		gaps = binary.AppendUvarint(gaps, uint64(i-last-1))
		last = i
		l := corr.level[k]
		symbols = append(symbols, stepSymbol(l, corr.steps[k]))
		if l != 1 {
			for d := range 3 {
				steps = binary.AppendVarint(steps, corr.steps[k][d])
			}
		}
	}
	dst = appendSection(dst, gaps)
	dst = appendSection(dst, symbols)
	return appendSection(dst, steps)
}

// levelOneSymbols is the number of symbols of level-1 particles, whose step
// counts (each -1, 0 or 1) the symbol holds. Symbol levelOneSymbols+l-2
// marks a particle of level l >= 2, whose counts follow the symbols.
const levelOneSymbols = 27

// stepSymbol returns the symbol byte of a particle at level l with steps.
func stepSymbol(l uint8, steps [3]int64) byte {
	if l != 1 {
		return byte(levelOneSymbols + int(l) - 2)
	}
	return byte(9*(steps[0]+1) + 3*(steps[1]+1) + steps[2] + 1)
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
	gaps := reader{data: r.section(binary.MaxVarintLen32 * int(count))}
	symbols := r.section(int(count))
	steps := reader{data: r.section(3 * binary.MaxVarintLen64 * int(count))}
	if r.err == nil && len(symbols) != int(count) {
		return nil, corruptf("correction data has %d symbols for %d particles", len(symbols), count)
	}
	last := int64(-1)
	for k := uint64(0); k < count && r.err == nil; k++ {
		gap := gaps.uvarint()
		if gaps.err != nil {
			return nil, corruptf("corrected particle %d: index gap: %v", k, gaps.err)
		}
		if gap >= uint64(n) || last+int64(gap)+1 >= int64(n) {
			return nil, corruptf("corrected particle %d is past the %d particles", k, n)
		}
		last += int64(gap) + 1
		corr.index = append(corr.index, int32(last))
	}
	if r.err == nil {
		corr.level = make([]uint8, count)
		corr.steps = make([][3]int64, count)
	}
	for k, sym := range symbols {
		if r.err != nil {
			break
		}
		i := corr.index[k]
		switch {
		case sym < levelOneSymbols:
			corr.level[k] = 1
			corr.steps[k] = [3]int64{int64(sym/9) - 1, int64(sym/3%3) - 1, int64(sym%3) - 1}
			continue
		case int(sym) <= levelOneSymbols+levelExact-2:
			corr.level[k] = sym - levelOneSymbols + 2
		default:
			return nil, corruptf("corrected particle %d (index %d) has symbol %d, expected at most %d", k, i, sym, levelOneSymbols+levelExact-2)
		}
		l := int(corr.level[k])
		for d := range 3 {
			s := steps.varint()
			if steps.err != nil {
				return nil, corruptf("corrected particle %d (index %d) axis %d: step count: %v", k, i, d, steps.err)
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
	if r.err == nil && (len(gaps.data) > 0 || len(steps.data) > 0) {
		return nil, corruptf("correction data has %d index and %d step bytes left over", len(gaps.data), len(steps.data))
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
