package qos

import (
	"fmt"
	"math"
)

// The size prediction of a codec is a linear base plus the boosted trees:
// ln(bytes per value) = c · φ(x) + trees(x). The base spans the sampled
// entropies of the quantized Lorenzo and interpolation residuals, which
// carry most of the size of any prediction-based coder. A linear base
// extrapolates to field families the trees have not seen, and the trees
// fit what remains.
//
// φ(x) is 1, ln(valid·H_L/8 + 16/n + 1e-3), ln(valid·H_I/8 + 16/n + 1e-3)
// and log10(eb/range). H_L and H_I are the entropies in bits of the two
// residual sets, valid is the valid share and n the chunk's value count.
// The logarithms are an entropy coder's bytes per value over the valid
// values, plus a fixed cost of about 16 bytes per chunk and a floor.
const sizeBasis = 4

// Indices in Inputs of the inputs the size basis reads; inputNames names
// them.
const (
	inputLogBound       = 0
	inputLorenzoEntropy = 6
	inputInterpEntropy  = 10
	inputValidShare     = 12
	inputLogCount       = 16
)

// sizeBasisOf returns φ(x) for model inputs x.
func sizeBasisOf(x []float64) [sizeBasis]float64 {
	n := math.Pow(10, x[inputLogCount])
	valid := x[inputValidShare]
	lnL := math.Log(valid*max(x[inputLorenzoEntropy], 0.01)/8 + 16/n + 1e-3)
	lnI := math.Log(valid*max(x[inputInterpEntropy], 0.01)/8 + 16/n + 1e-3)
	return [sizeBasis]float64{1, lnL, lnI, x[inputLogBound]}
}

// sizeBase returns the linear base of ln(bytes per value) for inputs x.
func (cm *CodecModel) sizeBase(x []float64) float64 {
	if len(cm.SizeBase) != sizeBasis {
		return 0
	}
	phi := sizeBasisOf(x)
	var y float64
	for i, c := range cm.SizeBase {
		y += c * phi[i]
	}
	return y
}

// fitSizeBase returns the least-squares coefficients of ln(bytes per
// value) over φ of the samples' inputs, with a small ridge that keeps the
// normal equations solvable when a basis column is constant.
func fitSizeBase(samples []sample) ([]float64, error) {
	const k = sizeBasis
	var a [k][k + 1]float64
	for _, s := range samples {
		phi := sizeBasisOf(s.x)
		for i := range k {
			for j := range k {
				a[i][j] += phi[i] * phi[j]
			}
			a[i][k] += phi[i] * s.lnBytes
		}
	}
	for i := range k {
		a[i][i] += 1e-6 * float64(len(samples))
	}
	// Gauss-Jordan elimination with partial pivoting.
	for c := range k {
		p := c
		for r := c + 1; r < k; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		if a[c][c] == 0 {
			return nil, fmt.Errorf("size base: the basis is singular over %d samples", len(samples))
		}
		for r := range k {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for j := c; j <= k; j++ {
				a[r][j] -= f * a[c][j]
			}
		}
	}
	out := make([]float64, k)
	for i := range k {
		out[i] = a[i][k] / a[i][i]
		if math.IsNaN(out[i]) || math.IsInf(out[i], 0) {
			return nil, fmt.Errorf("size base: coefficient %d is %v", i, out[i])
		}
	}
	return out, nil
}
