package codecs

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Auto is the selector named "auto": for each float chunk with a lossy
// bound it estimates the size of the interp, lorenzo and block payloads on a
// few sample boxes of the chunk and encodes with the smallest. The stream
// header records the codec it picks, so no stream names auto.
//
// The interp and lorenzo estimates run each predictor on the sample boxes
// and take the zeroth-order entropy of its codes plus the verbatim values.
// The block codec, when one is registered under the name "block", is
// estimated by encoding the boxes with it.
var Auto Codec = autoCodec{}

func init() { Register(Auto) }

// autoCandidates are the codecs Auto picks from, looked up by name at
// selection time, so a codec registered later takes part.
var autoCandidates = []string{"interp", "lorenzo", "block"}

type autoCodec struct{}

func (autoCodec) ID() ID       { return IDAuto }
func (autoCodec) Name() string { return "auto" }

// errAutoDirect is returned when Auto's own AppendEncode or Decode is called
// instead of going through Encode and Decode.
var errAutoDirect = errors.New("auto is a selector: encode with codecs.Encode, which records the codec it picks")

func (autoCodec) AppendEncode(dst, src []byte, p Params) ([]byte, error) {
	return dst, fmt.Errorf("%w: %w", errAutoDirect, ErrUnsupported)
}

func (autoCodec) Decode(dst, payload []byte, p Params) error {
	return fmt.Errorf("%w: a payload never names auto: %w: %w", ErrCorrupt, errAutoDirect, ErrUnsupported)
}

// Select returns the codec for the chunk src: Lossless for integer dtypes
// and lossless bounds, otherwise the candidate with the smallest estimate.
func (autoCodec) Select(src []byte, p Params) Codec {
	if !p.DType.IsFloat() || !(p.Bound > 0) || math.IsInf(p.Bound, 0) || p.Count()*p.DType.Size() != len(src) {
		return Lossless
	}
	if p.DType == Float32 {
		return autoSelect(viewAs[float32](src), p, float32(p.Fill))
	}
	return autoSelect(viewAs[float64](src), p, p.Fill)
}

func autoSelect[T float](data []T, p Params, fill T) Codec {
	g := newInterpGeometry(p.Shape)
	s := interpPool.Get().(*interpScratch)
	defer interpPool.Put(s)

	var best Codec
	bestBits := math.Inf(1)
	var chosenCfg interpConfig
	for _, name := range autoCandidates {
		c, err := ByName(name)
		if err != nil {
			continue
		}
		var bitsPerValue float64
		switch c.ID() {
		case IDInterp:
			chosenCfg, bitsPerValue = interpTune(data, &g, s, p.Bound, p.HasFill, fill)
		case IDLorenzo:
			boxes, bg, nbox := sampleBoxes(data, &g, s)
			bitsPerValue = lorenzoSampleBits(boxes, &bg, nbox, s, p.Bound, p.HasFill, fill)
		default:
			boxes, bg, nbox := sampleBoxes(data, &g, s)
			bitsPerValue = trialSampleBits(c, boxes, &bg, nbox, p)
		}
		if bitsPerValue < bestBits {
			best, bestBits = c, bitsPerValue
		}
	}
	switch {
	case best == nil:
		return Lossless
	case best.ID() == IDInterp:
		// Keep the tuning, so the interp encoder does not repeat it.
		return interpCodec{preset: &chosenCfg}
	}
	return best
}

// lorenzoSampleBits runs the lorenzo predictor over each sample box and
// returns the estimated bits per value.
func lorenzoSampleBits[T float](boxes []T, bg *interpGeometry, nbox int, s *interpScratch, eb float64, hasFill bool, fill T) float64 {
	hist := s.histogram()
	lg := newLorenzoGeometry(bg.dims[:bg.nd])
	ls := lorenzoPool.Get().(*lorenzoScratch)
	defer lorenzoPool.Put(ls)
	used := s.used[:0]
	verbBytes := 0
	for b := range nbox {
		ls.prepare(bg.n, lg)
		ls.verb = lorenzoEncode(boxes[b*bg.n:(b+1)*bg.n], ls, lg, eb, hasFill, fill)
		verbBytes += len(ls.verb)
		for _, c := range ls.codes {
			if hist[c] == 0 {
				used = append(used, c)
			}
			hist[c]++
		}
	}
	s.used = used
	return (codeEntropyBits(hist, used) + 8*float64(verbBytes)) / float64(nbox*bg.n)
}

// trialSampleBits encodes each sample box with c and returns the payload
// bits per value, or +Inf when c does not encode them.
func trialSampleBits[T float](c Codec, boxes []T, bg *interpGeometry, nbox int, p Params) float64 {
	var zero T
	size := int(unsafe.Sizeof(zero))
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(boxes))), len(boxes)*size)
	bp := p
	bp.Shape = append([]int(nil), bg.dims[:bg.nd]...)
	buf := getBytes(0)
	defer putBytes(buf)
	total := 0
	for b := range nbox {
		out, err := c.AppendEncode((*buf)[:0], raw[b*bg.n*size:(b+1)*bg.n*size], bp)
		if err != nil {
			return math.Inf(1)
		}
		*buf = out
		total += len(out)
	}
	return 8 * float64(total) / float64(nbox*bg.n)
}
