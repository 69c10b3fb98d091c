package qos

import (
	"fmt"
	"math"
)

// SSIMWindow is the side of the square window SSIM2D slides over each
// slice, the uniform 7 x 7 window of scikit-image's structural_similarity.
const SSIMWindow = 7

// SSIM2D returns the mean structural similarity of dec to orig, two arrays
// of the given shape in C order. The array is cut into 2-D slices along its
// two fastest dimensions; SSIM is computed in every uniform window of
// SSIMWindow x SSIMWindow values (smaller when a slice is smaller) that
// holds no fill or non-finite original, with sample covariances and the
// constants C1 = (0.01 L)^2 and C2 = (0.03 L)^2, where L is dataRange. The
// result is the mean over all windows of all slices, which weighs every
// slice equally because they have the same size.
//
// It returns an error for fewer than two dimensions, mismatched lengths, a
// dataRange that is not positive and finite, and an array with no window
// free of fill values.
func SSIM2D[T float32 | float64](orig, dec []T, shape []int, dataRange float64, fill *float64) (float64, error) {
	sum, windows, err := ssimSum(orig, dec, shape, dataRange, fill)
	if err != nil {
		return 0, err
	}
	if windows == 0 {
		return 0, fmt.Errorf("ssim: no window of shape %v is free of fill and non-finite values", shape)
	}
	return sum / float64(windows), nil
}

// ssimSum returns the sum of the window SSIMs of the slices of an array and
// the number of windows, so that chunks can be aggregated.
func ssimSum[T float32 | float64](orig, dec []T, shape []int, dataRange float64, fill *float64) (float64, int, error) {
	if len(shape) < 2 {
		return 0, 0, fmt.Errorf("ssim: shape %v has %d dimension, SSIM needs at least 2", shape, len(shape))
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if len(orig) != n || len(dec) != n {
		return 0, 0, fmt.Errorf("ssim: shape %v has %d values, got %d original and %d decoded", shape, n, len(orig), len(dec))
	}
	if !(dataRange > 0) || math.IsInf(dataRange, 0) {
		return 0, 0, fmt.Errorf("ssim: data range %v must be positive and finite", dataRange)
	}
	rows, cols := shape[len(shape)-2], shape[len(shape)-1]
	var s ssimScratch
	var sum float64
	var windows int
	for off := 0; off+rows*cols <= n && rows*cols > 0; off += rows * cols {
		ws, wn := s.slice(orig[off:off+rows*cols], dec[off:off+rows*cols], rows, cols, dataRange, fill)
		sum += ws
		windows += wn
	}
	return sum, windows, nil
}

// ssimScratch holds the summed-area tables of one slice.
type ssimScratch struct {
	x, y, xx, yy, xy, bad []float64
}

func (s *ssimScratch) slice(origAny, decAny any, rows, cols int, dataRange float64, fill *float64) (float64, int) {
	xs, ys := toFloats(origAny), toFloats(decAny)
	w := min(SSIMWindow, rows, cols)
	if w < 2 {
		return 0, 0
	}
	var fillV float64
	hasFill := fill != nil
	if hasFill {
		fillV = *fill
		if _, ok := origAny.([]float32); ok {
			fillV = float64(float32(fillV))
		}
	}
	// Center by the mean of the valid originals so the summed-area tables
	// do not lose the variance to cancellation.
	var mean float64
	var cnt int
	for _, v := range xs {
		if v-v == 0 && !(hasFill && v == fillV) {
			mean += v
			cnt++
		}
	}
	if cnt == 0 {
		return 0, 0
	}
	mean /= float64(cnt)

	stride := cols + 1
	size := (rows + 1) * stride
	for _, p := range []*[]float64{&s.x, &s.y, &s.xx, &s.yy, &s.xy, &s.bad} {
		if cap(*p) < size {
			*p = make([]float64, size)
		}
		*p = (*p)[:size]
		clear((*p)[:stride])
	}
	for r := 0; r < rows; r++ {
		var sx, sy, sxx, syy, sxy, sb float64
		row := (r + 1) * stride
		s.x[row], s.y[row], s.xx[row], s.yy[row], s.xy[row], s.bad[row] = 0, 0, 0, 0, 0, 0
		for c := 0; c < cols; c++ {
			a, b := xs[r*cols+c], ys[r*cols+c]
			if a-a != 0 || (hasFill && a == fillV) || b-b != 0 {
				sb++
			} else {
				a -= mean
				b -= mean
				sx += a
				sy += b
				sxx += a * a
				syy += b * b
				sxy += a * b
			}
			i, up := row+c+1, row-stride+c+1
			s.x[i] = s.x[up] + sx
			s.y[i] = s.y[up] + sy
			s.xx[i] = s.xx[up] + sxx
			s.yy[i] = s.yy[up] + syy
			s.xy[i] = s.xy[up] + sxy
			s.bad[i] = s.bad[up] + sb
		}
	}
	c1 := (0.01 * dataRange) * (0.01 * dataRange)
	c2 := (0.03 * dataRange) * (0.03 * dataRange)
	np := float64(w * w)
	cov := np / (np - 1)
	box := func(t []float64, r, c int) float64 {
		return t[(r+w)*stride+c+w] - t[r*stride+c+w] - t[(r+w)*stride+c] + t[r*stride+c]
	}
	var sum float64
	var windows int
	for r := 0; r+w <= rows; r++ {
		for c := 0; c+w <= cols; c++ {
			if box(s.bad, r, c) != 0 {
				continue
			}
			mx, my := box(s.x, r, c)/np, box(s.y, r, c)/np
			vx := cov * (box(s.xx, r, c)/np - mx*mx)
			vy := cov * (box(s.yy, r, c)/np - my*my)
			vxy := cov * (box(s.xy, r, c)/np - mx*my)
			// The means were shifted by -mean, so add it back for the
			// luminance term.
			ux, uy := mx+mean, my+mean
			num := (2*ux*uy + c1) * (2*vxy + c2)
			den := (ux*ux + uy*uy + c1) * (vx + vy + c2)
			sum += num / den
			windows++
		}
	}
	return sum, windows
}

func toFloats(v any) []float64 {
	switch x := v.(type) {
	case []float64:
		return x
	case []float32:
		out := make([]float64, len(x))
		for i, f := range x {
			out[i] = float64(f)
		}
		return out
	}
	return nil
}
