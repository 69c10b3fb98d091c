package qos

import (
	"fmt"
	"math"

	"github.com/epsilon-db/epsilon/codecs"
)

// outcome is what one real compression of a chunk gave.
type outcome struct {
	// Bytes is the stream size, header included.
	Bytes int
	// SqErr is the sum of squared errors over Count valid values.
	SqErr float64
	Count int
	// MaxErr is max |x - x'| over the valid values.
	MaxErr float64
	// SSIMSum and Windows aggregate the window SSIMs of the chunk's 2-D
	// slices; Windows is 0 when SSIM was not requested or not defined.
	SSIMSum float64
	Windows int
}

// mse returns the mean squared error per valid value.
func (o outcome) mse() float64 {
	if o.Count == 0 {
		return 0
	}
	return o.SqErr / float64(o.Count)
}

// ssimDeficit returns 1 - mean SSIM, or NaN without windows.
func (o outcome) ssimDeficit() float64 {
	if o.Windows == 0 {
		return math.NaN()
	}
	return 1 - o.SSIMSum/float64(o.Windows)
}

// chunkData is one chunk held in memory for planning and measurement.
type chunkData struct {
	Coords []int
	Shape  []int
	Raw    []byte
	Vals   []float64
	Feat   *Features
}

// measureChunk compresses the chunk with codec under absolute bound eb,
// decodes it and compares. valueRange is the array's range, the L of SSIM.
func measureChunk(codec codecs.Codec, c *chunkData, p codecs.Params, eb, valueRange float64, withSSIM bool) (outcome, error) {
	o, _, err := measureChunkDecoded(codec, c, p, eb, valueRange, withSSIM)
	return o, err
}

// measureChunkDecoded is measureChunk that also returns the decoded values.
func measureChunkDecoded(codec codecs.Codec, c *chunkData, p codecs.Params, eb, valueRange float64, withSSIM bool) (outcome, []float64, error) {
	p.Shape = c.Shape
	p.Bound = eb
	userBound := codecs.Bound{Mode: codecs.ModeAbs, Value: eb}
	if eb == 0 {
		userBound = codecs.Bound{}
	}
	stream, err := codecs.Encode(nil, codec, userBound, p, c.Raw)
	if err != nil {
		return outcome{}, nil, fmt.Errorf("chunk %v: %w", c.Coords, err)
	}
	dec := make([]byte, len(c.Raw))
	if _, err := codecs.Decode(dec, stream); err != nil {
		return outcome{}, nil, fmt.Errorf("chunk %v: decode: %w", c.Coords, err)
	}
	var fill *float64
	if p.HasFill {
		fill = &p.Fill
	}
	decVals, fillT := floatsOf(dec, p.DType, fill)
	o := outcome{Bytes: len(stream)}
	for i, x := range c.Vals {
		if x-x != 0 || (fillT != nil && x == *fillT) {
			continue
		}
		d := math.Abs(x - decVals[i])
		o.SqErr += d * d
		o.MaxErr = max(o.MaxErr, d)
		o.Count++
	}
	if withSSIM && len(c.Shape) >= 2 && valueRange > 0 {
		o.SSIMSum, o.Windows, _ = ssimSum(c.Vals, decVals, c.Shape, valueRange, fillT)
	}
	return o, decVals, nil
}
