package codecs

import (
	"math"
	"unsafe"

	"github.com/epsilon-db/epsilon/codecs/internal/huffman"
)

const (
	// interpSampleMin is the number of values below which the tuning codes
	// the whole chunk instead of sample boxes.
	interpSampleMin = 4096
	// interpSampleShare is the part of a larger chunk that the tuning codes
	// per candidate, 1/interpSampleShare.
	interpSampleShare = 64
	// interpSampleBoxes is the number of sample boxes.
	interpSampleBoxes = 8
)

// interpLevelFactors are the (alpha, beta) pairs the tuning tries. Level l
// is coded with eb / min(alpha^(l-1), beta). Tighter bounds on coarse levels
// cost few bits, because coarse levels hold few points, and make the
// predictions of the many fine points better.
//
// NOTE: the gain is small on the real fields of the test data set. With
// TestInterpRatioTable, the geometric mean ratio of interp is 13.45 and 6.73
// at rel 1e-3 and 1e-4 with these candidates, and 13.40 and 6.72 with
// (1, 1) alone.
var interpLevelFactors = [][2]float64{{1, 1}, {1.25, 2}, {1.5, 3}, {2, 4}}

// interpDefaultFactors is the pair used while the interpolator and the
// dimension order are chosen.
var interpDefaultFactors = [2]float64{1.5, 3}

// boxOffsets are irrational fractions that spread the sample boxes over each
// dimension, one per dimension (an additive recurrence).
var boxOffsets = [MaxDims]float64{0.6180339887, 0.7548776662, 0.5698402910, 0.4655712319, 0.3802775691, 0.3176721962, 0.2680162866, 0.2286766316}

// interpTune picks the interpolator, dimension order and level factors for
// data by coding sample boxes of it with each candidate and comparing the
// estimated size. It returns the configuration and its estimated bits per
// value.
func interpTune[T float](data []T, g *interpGeometry, s *interpScratch, eb float64, hasFill bool, fill T) (interpConfig, float64) {
	boxes, bg, nbox := sampleBoxes(data, g, s)
	best := interpConfig{alpha: interpDefaultFactors[0], beta: interpDefaultFactors[1]}
	for k := range g.nd {
		best.order[k] = uint8(k)
	}
	if g.n == 1 {
		return best, 0
	}

	bestBits := math.Inf(1)
	for _, cubic := range []bool{true, false} {
		for _, reverse := range []bool{false, true} {
			if reverse && g.nd == 1 {
				continue
			}
			cfg := best
			cfg.cubic = cubic
			for k := range g.nd {
				cfg.order[k] = uint8(k)
				if reverse {
					cfg.order[k] = uint8(g.nd - 1 - k)
				}
			}
			if b := interpSampleBits(boxes, &bg, nbox, &cfg, s, eb, hasFill, fill); b < bestBits {
				best, bestBits = cfg, b
			}
		}
	}
	chosen := best
	for _, f := range interpLevelFactors {
		if f == interpDefaultFactors {
			continue
		}
		cfg := chosen
		cfg.alpha, cfg.beta = f[0], f[1]
		if b := interpSampleBits(boxes, &bg, nbox, &cfg, s, eb, hasFill, fill); b < bestBits {
			best, bestBits = cfg, b
		}
	}
	return best, bestBits / float64(nbox*bg.n)
}

// interpSampleBits codes each of the nbox boxes with cfg and returns the
// estimated size in bits: the zeroth-order entropy of all codes plus the
// verbatim values.
func interpSampleBits[T float](boxes []T, bg *interpGeometry, nbox int, cfg *interpConfig, s *interpScratch, eb float64, hasFill bool, fill T) float64 {
	hist := s.histogram()
	used := s.used[:0]
	verbBytes := 0
	for b := range nbox {
		box := boxes[b*bg.n : (b+1)*bg.n]
		verb := encodeInterp(box, bg, cfg, s, eb, hasFill, fill)
		verbBytes += len(verb)
		for _, c := range s.codes {
			if hist[c] == 0 {
				used = append(used, c)
			}
			hist[c]++
		}
	}
	s.used = used
	return codeEntropyBits(hist, used) + 8*float64(verbBytes)
}

// histogram returns the code histogram, all zero between uses.
func (s *interpScratch) histogram() []uint32 {
	if s.hist == nil {
		s.hist = make([]uint32, huffman.MaxSymbols)
	}
	return s.hist
}

// codeEntropyBits returns the zeroth-order entropy in bits of the counts in
// hist at the symbols used, and clears those counts.
func codeEntropyBits(hist []uint32, used []uint16) float64 {
	total := 0.0
	for _, c := range used {
		total += float64(hist[c])
	}
	bitsSum := 0.0
	for _, c := range used {
		f := float64(hist[c])
		bitsSum += f * math.Log2(total/f)
		hist[c] = 0
	}
	return bitsSum
}

// sampleBoxes returns nbox boxes of data, each of the shape bg, one after the
// other in one slice. A chunk of at most interpSampleMin values is its own
// single box.
func sampleBoxes[T float](data []T, g *interpGeometry, s *interpScratch) ([]T, interpGeometry, int) {
	if g.n <= interpSampleMin {
		return data, *g, 1
	}
	target := max(interpSampleMin, g.n/interpSampleShare)
	f := math.Pow(float64(target)/float64(interpSampleBoxes)/float64(g.n), 1/float64(g.nd))
	var shape [MaxDims]int
	vol := 1
	for k := range g.nd {
		n := g.dims[k]
		shape[k] = min(n, max(int(math.Ceil(float64(n)*f)), min(n, 4)))
		vol *= shape[k]
	}
	nbox := min(interpSampleBoxes, max(1, target/vol))
	bg := newInterpGeometry(shape[:g.nd])

	var zero T
	size := int(unsafe.Sizeof(zero))
	if cap(s.sample) < nbox*vol*size {
		s.sample = make([]byte, nbox*vol*size)
	}
	boxes := viewAs[T](s.sample[:nbox*vol*size])

	last := g.nd - 1
	rowLen := shape[last]
	dst := 0
	for b := range nbox {
		var origin [MaxDims]int
		for k := range g.nd {
			frac := float64(b)*boxOffsets[k] + 0.5*boxOffsets[k]
			frac -= math.Floor(frac)
			origin[k] = int(frac * float64(g.dims[k]-shape[k]+1))
		}
		var coord [MaxDims]int
		for {
			src := 0
			for k := range g.nd {
				src += (origin[k] + coord[k]) * g.strides[k]
			}
			copy(boxes[dst:dst+rowLen], data[src:src+rowLen])
			dst += rowLen
			k := last - 1
			for ; k >= 0; k-- {
				coord[k]++
				if coord[k] < shape[k] {
					break
				}
				coord[k] = 0
			}
			if k < 0 {
				break
			}
		}
	}
	return boxes, bg, nbox
}
