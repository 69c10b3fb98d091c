package qos

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sort"

	"github.com/klauspost/compress/zstd"
)

// Model file format, version 3. All integers are little-endian.
//
//	offset  size  field
//	0       4     magic "EPSQ"
//	4       2     format version, 3
//	6       2     reserved, zero
//	8       4     body length in bytes (uint32)
//	12      4     CRC-32C (Castagnoli) of the body
//	16      ...   body: one zstd frame holding a JSON document
//
// The JSON document is modelDoc: the number and names of the inputs (which
// must match numInputs and inputNames of this build), and for every codec
// name a mixture of experts: the gate (input means and scales, expert
// centroids and the temperature), per expert three boosted tree ensembles
// that predict from Inputs: ln(mse/eb^2), ln(stream bytes per value) less
// the codec's linear size base (sizebase.go) and ln(1 - SSIM), the
// coefficients of that base, and the calibration: for each
// of the three outputs the quantiles 0, 0.05, ..., 1 of ln(measured /
// predicted) on chunks of fields held out of the fit. ReadModel rejects
// another magic or version, a length or checksum that does not match, and
// a document whose inputs, trees or calibration do not fit this build.
// TestModelGolden pins the header layout.
//
// Version 1 had no calibration and computed its inputs from other
// features. Version 2 predicted mse/eb^2 itself, not its logarithm, which
// let a prediction fall to zero or below. ReadModel rejects both with an
// error that names the retrain command.

// ModelVersion is the model file format version this build reads and writes.
const ModelVersion = 3

var modelMagic = [4]byte{'E', 'P', 'S', 'Q'}

const modelHeaderLen = 16

// ErrModelFormat marks a model file that is corrupt or has another format
// version.
var ErrModelFormat = errors.New("invalid qos model file")

// Model predicts, per codec, the error and size of a chunk under a bound.
type Model struct {
	doc modelDoc
}

type modelDoc struct {
	Inputs     int                    `json:"inputs"`
	InputNames []string               `json:"input_names"`
	Codecs     map[string]*CodecModel `json:"codecs"`
	// TrainedOn lists the arrays the model was trained on.
	TrainedOn []string `json:"trained_on"`
}

// CodecModel is the mixture of experts of one codec: the gate weighs each
// expert by the Gaussian kernel of the distance between the chunk's
// standardized inputs at the reference bound (the array's value range) and
// the expert's centroid.
type CodecModel struct {
	Mean      []float64   `json:"mean"`
	Scale     []float64   `json:"scale"`
	Centroids [][]float64 `json:"centroids"`
	Tau       float64     `json:"tau"`
	Experts   []Expert    `json:"experts"`
	// SizeBase holds the coefficients of the linear base of the size
	// prediction (sizebase.go); the experts' size ensembles fit the rest.
	SizeBase []float64 `json:"size_base"`
	// Calibration contains the held-out residual quantiles of the outputs.
	Calibration Calibration `json:"calibration"`
}

// calibrationSteps is the number of quantiles each calibration contains: 0,
// 0.05, ..., 1.
const calibrationSteps = 21

// Calibration contains, per output, the quantiles of ln(measured / predicted)
// at 0, 0.05, ..., 1 over chunks of fields that the ensembles were not fit
// on. The planner adds a quantile to a prediction to make it a bound that
// holds with that probability.
type Calibration struct {
	MSE   []float64 `json:"mse"`
	Bytes []float64 `json:"bytes"`
	SSIM  []float64 `json:"ssim"`
}

// quantileOf interpolates quantile q (0 to 1) in the calibration quantiles qs.
func quantileOf(qs []float64, q float64) float64 {
	if len(qs) == 0 {
		return 0
	}
	if !(q >= 0) {
		q = 0
	}
	x := min(1, q) * float64(len(qs)-1)
	i := min(int(x), len(qs)-2)
	if i < 0 {
		return qs[0]
	}
	return qs[i] + (x-float64(i))*(qs[i+1]-qs[i])
}

// Expert holds the three ensembles of one expert.
type Expert struct {
	MSE   *Boosted `json:"mse"`
	Bytes *Boosted `json:"bytes"`
	SSIM  *Boosted `json:"ssim"`
}

// Prediction is the predicted outcome for one chunk and bound.
type Prediction struct {
	// MSE is the mean squared error per valid value.
	MSE float64
	// Bytes is the stream size.
	Bytes float64
	// SSIMDeficit is 1 - mean window SSIM of the chunk's slices.
	SSIMDeficit float64
}

// Codecs returns the codec names the model covers, sorted.
func (m *Model) Codecs() []string {
	names := make([]string, 0, len(m.doc.Codecs))
	for n := range m.doc.Codecs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TrainedOn returns the names of the arrays the model was trained on.
func (m *Model) TrainedOn() []string { return m.doc.TrainedOn }

func (m *Model) codec(name string) (*CodecModel, error) {
	cm, ok := m.doc.Codecs[name]
	if !ok {
		return nil, fmt.Errorf("the qos model has no predictor for codec %q (it covers %v): retrain it with epsilon qos train", name, m.Codecs())
	}
	return cm, nil
}

// gate returns the expert weights for the chunk with reference inputs ref.
func (cm *CodecModel) gate(ref []float64, w []float64) []float64 {
	w = w[:0]
	if len(cm.Centroids) <= 1 {
		// One expert: fitCodecModel calls gate before it fits the
		// experts, so their count cannot tell.
		return append(w, 1)
	}
	var total float64
	for _, c := range cm.Centroids {
		var d2 float64
		for i, v := range ref {
			z := (v - cm.Mean[i]) / cm.Scale[i]
			d2 += (z - c[i]) * (z - c[i])
		}
		w = append(w, d2)
	}
	minD := math.Inf(1)
	for _, d := range w {
		minD = min(minD, d)
	}
	for i, d := range w {
		w[i] = math.Exp(-(d - minD) / (2 * cm.Tau * cm.Tau))
		total += w[i]
	}
	for i := range w {
		w[i] /= total
	}
	return w
}

// Outputs a predictor evaluates. A planner requests only the ones it uses.
type need uint8

const (
	needMSE need = 1 << iota
	needBytes
	needSSIM
)

// predictor evaluates a CodecModel for one chunk at many bounds, reusing
// the gate weights. It evaluates the ensembles only on a lattice of bounds
// latticeStep decades apart, remembers what it evaluated, and interpolates
// the logarithms of the outputs linearly in log10(bound) between lattice
// points. A search over bounds then costs a few ensemble evaluations per
// chunk, however many bounds it requests.
type predictor struct {
	cm      *CodecModel
	f       *Features
	vr      float64
	weights []float64
	x       [numInputs]float64
	// terms caches the entropy terms of the chunk's Lorenzo and interp
	// residuals across bounds.
	terms [2]termCache
	// points holds the evaluated lattice points; index j is lattice point
	// base + j.
	base   int
	points []latticePoint
}

// latticePerDecade is the number of lattice points per decade of bound.
// The outputs are smooth in log10(bound) at this spacing: mse grows about
// as eb^2 and the size about linearly in log10(eb).
const latticePerDecade = 8

// latticePoint holds the outputs at one lattice bound, as logarithms: ln
// MSE, ln bytes, ln SSIM deficit; have marks which are set. x holds the
// model inputs at the bound once an output is set, so that another output
// costs only its ensembles.
type latticePoint struct {
	have                need
	lnMSE, lnBytes, lnD float64
	x                   [numInputs]float64
}

func newPredictor(cm *CodecModel, f *Features, valueRange float64) *predictor {
	p := &predictor{cm: cm, f: f, vr: valueRange}
	x := f.inputs(p.x[:0], valueRange, valueRange, &p.terms)
	x[ssimInput] = noSSIMEstimate
	p.weights = cm.gate(x, nil)
	// Experts with a negligible weight are skipped: renormalize the rest.
	var total float64
	for k, w := range p.weights {
		if w < 1e-3 {
			p.weights[k] = 0
		}
		total += p.weights[k]
	}
	for k := range p.weights {
		p.weights[k] /= total
	}
	return p
}

// point returns lattice point j with at least the outputs in what.
func (p *predictor) point(j int, what need) *latticePoint {
	if len(p.points) == 0 {
		p.base = j
	}
	if j < p.base {
		grow := p.base - j
		p.points = append(make([]latticePoint, grow, grow+len(p.points)), p.points...)
		p.base = j
	}
	if i := j - p.base; i >= len(p.points) {
		p.points = append(p.points, make([]latticePoint, i+1-len(p.points))...)
	}
	lp := &p.points[j-p.base]
	if missing := what &^ lp.have; missing != 0 {
		eb := math.Pow(10, float64(j)/latticePerDecade)
		if lp.have == 0 {
			p.f.inputs(lp.x[:0], eb, p.vr, &p.terms)
		}
		pr := p.outputs(lp.x[:], eb, missing)
		if missing&needMSE != 0 {
			lp.lnMSE = math.Log(max(pr.MSE, 1e-300))
		}
		if missing&needBytes != 0 {
			lp.lnBytes = math.Log(max(pr.Bytes, 1e-300))
		}
		if missing&needSSIM != 0 {
			lp.lnD = math.Log(max(pr.SSIMDeficit, 1e-300))
		}
		lp.have |= missing
	}
	return lp
}

// predict returns the outputs in what for bound eb, interpolated between
// the lattice points around it; the others are zero.
func (p *predictor) predict(eb float64, what need) Prediction {
	if !(eb > 0) || math.IsInf(eb, 0) {
		return p.evaluate(eb, what)
	}
	t := math.Log10(eb) * latticePerDecade
	j := int(math.Floor(t))
	a := t - float64(j)
	if r := math.Round(t); math.Abs(t-r) < 1e-9 {
		// On a lattice point: one evaluation, not two.
		j, a = int(r), 0
	}
	lo := *p.point(j, what)
	hi := &lo
	if a > 0 {
		hi = p.point(j+1, what)
	}
	lerp := func(x, y float64) float64 { return math.Exp(x + a*(y-x)) }
	var out Prediction
	if what&needMSE != 0 {
		out.MSE = lerp(lo.lnMSE, hi.lnMSE)
	}
	if what&needBytes != 0 {
		out.Bytes = lerp(lo.lnBytes, hi.lnBytes)
	}
	if what&needSSIM != 0 {
		out.SSIMDeficit = lerp(lo.lnD, hi.lnD)
	}
	return out
}

// evaluate returns the outputs in what for bound eb from the ensembles;
// the others are zero.
func (p *predictor) evaluate(eb float64, what need) Prediction {
	return p.outputs(p.f.inputs(p.x[:0], eb, p.vr, &p.terms), eb, what)
}

// outputs returns the outputs in what for bound eb from the ensembles at
// inputs x; the others are zero. It leaves x as it found it.
func (p *predictor) outputs(x []float64, eb float64, what need) Prediction {
	var lnMSE, lnBytes, lnDef float64
	if what&needSSIM != 0 {
		for k, w := range p.weights {
			if w != 0 {
				lnDef += w * p.cm.Experts[k].SSIM.predict(x)
			}
		}
	}
	if what&(needMSE|needBytes) != 0 {
		// The squared error and size ensembles were fit without the SSIM
		// estimate.
		ssim := x[ssimInput]
		x[ssimInput] = noSSIMEstimate
		for k, w := range p.weights {
			if w == 0 {
				continue
			}
			e := &p.cm.Experts[k]
			if what&needMSE != 0 {
				lnMSE += w * e.MSE.predict(x)
			}
			if what&needBytes != 0 {
				lnBytes += w * e.Bytes.predict(x)
			}
		}
		if what&needBytes != 0 {
			lnBytes += p.cm.sizeBase(x)
		}
		x[ssimInput] = ssim
	}
	n := float64(max(p.f.Count, 1))
	var out Prediction
	if what&needMSE != 0 {
		out.MSE = math.Exp(lnMSE) * eb * eb
	}
	if what&needBytes != 0 {
		out.Bytes = math.Exp(lnBytes) * n
	}
	if what&needSSIM != 0 {
		out.SSIMDeficit = math.Exp(lnDef)
	}
	return out
}

// MarshalBinary encodes the model in the model file format.
func (m *Model) MarshalBinary() ([]byte, error) {
	js, err := json.Marshal(&m.doc)
	if err != nil {
		return nil, err
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		return nil, err
	}
	body := enc.EncodeAll(js, nil)
	_ = enc.Close()
	out := make([]byte, modelHeaderLen, modelHeaderLen+len(body))
	copy(out, modelMagic[:])
	binary.LittleEndian.PutUint16(out[4:], ModelVersion)
	binary.LittleEndian.PutUint32(out[8:], uint32(len(body)))
	binary.LittleEndian.PutUint32(out[12:], crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return append(out, body...), nil
}

// ReadModel decodes a model file. Errors wrap ErrModelFormat.
func ReadModel(b []byte) (*Model, error) {
	if len(b) < modelHeaderLen {
		return nil, fmt.Errorf("%w: %d bytes, the header alone is %d", ErrModelFormat, len(b), modelHeaderLen)
	}
	if !bytes.Equal(b[:4], modelMagic[:]) {
		return nil, fmt.Errorf("%w: magic %q, expected %q", ErrModelFormat, b[:4], modelMagic[:])
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != ModelVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads version %d: retrain the model with epsilon qos train", ErrModelFormat, v, ModelVersion)
	}
	if r := binary.LittleEndian.Uint16(b[6:]); r != 0 {
		return nil, fmt.Errorf("%w: reserved header bytes are %#x, expected 0", ErrModelFormat, r)
	}
	body := b[modelHeaderLen:]
	if n := binary.LittleEndian.Uint32(b[8:]); int64(n) != int64(len(body)) {
		return nil, fmt.Errorf("%w: header gives a body of %d bytes, the file has %d", ErrModelFormat, n, len(body))
	}
	if want, got := binary.LittleEndian.Uint32(b[12:]), crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)); want != got {
		return nil, fmt.Errorf("%w: checksum %#08x does not match the stored %#08x", ErrModelFormat, got, want)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(256<<20))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	js, err := dec.DecodeAll(body, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrModelFormat, err)
	}
	m := &Model{}
	if err := json.Unmarshal(js, &m.doc); err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrModelFormat, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModelFormat, err)
	}
	return m, nil
}

func (m *Model) validate() error {
	d := &m.doc
	if d.Inputs != numInputs || len(d.InputNames) != numInputs {
		return fmt.Errorf("the model has %d inputs, this build computes %d", d.Inputs, numInputs)
	}
	for i, n := range d.InputNames {
		if n != inputNames[i] {
			return fmt.Errorf("model input %d is %q, this build computes %q", i, n, inputNames[i])
		}
	}
	if len(d.Codecs) == 0 {
		return errors.New("the model covers no codec")
	}
	for name, cm := range d.Codecs {
		if cm == nil || len(cm.Experts) == 0 || len(cm.Mean) != numInputs || len(cm.Scale) != numInputs || !(cm.Tau > 0) {
			return fmt.Errorf("codec %q: gate or experts missing", name)
		}
		if len(cm.Experts) > 1 && len(cm.Centroids) != len(cm.Experts) {
			return fmt.Errorf("codec %q: %d experts but %d centroids", name, len(cm.Experts), len(cm.Centroids))
		}
		for _, c := range cm.Centroids {
			if len(c) != numInputs {
				return fmt.Errorf("codec %q: a centroid has %d inputs, expected %d", name, len(c), numInputs)
			}
		}
		for _, s := range cm.Scale {
			if !(s > 0) {
				return fmt.Errorf("codec %q: gate scale %v must be positive", name, s)
			}
		}
		if len(cm.SizeBase) != sizeBasis {
			return fmt.Errorf("codec %q: the size base has %d coefficients, expected %d", name, len(cm.SizeBase), sizeBasis)
		}
		for _, c := range cm.SizeBase {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				return fmt.Errorf("codec %q: a size base coefficient is %v", name, c)
			}
		}
		c := &cm.Calibration
		for _, qs := range [][]float64{c.MSE, c.Bytes, c.SSIM} {
			if len(qs) != calibrationSteps {
				return fmt.Errorf("codec %q: a calibration has %d quantiles, expected %d", name, len(qs), calibrationSteps)
			}
			for i, q := range qs {
				if math.IsNaN(q) || math.IsInf(q, 0) || (i > 0 && q < qs[i-1]) {
					return fmt.Errorf("codec %q: calibration quantiles must be finite and ascending", name)
				}
			}
		}
		for k, e := range cm.Experts {
			for _, b := range []*Boosted{e.MSE, e.Bytes, e.SSIM} {
				if b == nil {
					return fmt.Errorf("codec %q expert %d: an ensemble is missing", name, k)
				}
				for i := range b.Trees {
					if !validTree(&b.Trees[i], numInputs) {
						return fmt.Errorf("codec %q expert %d tree %d is malformed", name, k, i)
					}
				}
				b.pack()
			}
		}
	}
	return nil
}

// defaultModelFile is the model trained on the real fields. Rebuild it with
// the command in model/README.md.
//
//go:embed model/default.qosm
var defaultModelFile []byte

// DefaultModel returns the model embedded in the binary.
func DefaultModel() (*Model, error) {
	m, err := ReadModel(defaultModelFile)
	if err != nil {
		return nil, fmt.Errorf("embedded qos model: %w", err)
	}
	return m, nil
}
