package qos

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultModelLoads(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	require.Contains(t, m.Codecs(), "lorenzo")
	require.NotEmpty(t, m.TrainedOn())
}

func TestModelRoundTrip(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	m2, err := ReadModel(b)
	require.NoError(t, err)
	require.Equal(t, m.doc, m2.doc)
}

func TestModelGolden(t *testing.T) {
	// The header of the model file format, version 3: magic, version,
	// reserved zero.
	require.Equal(t, "4550535103000000", hex.EncodeToString(defaultModelFile[:8]))
	require.Equal(t, uint32(len(defaultModelFile)-16), binary.LittleEndian.Uint32(defaultModelFile[8:]))
	require.Equal(t, crc32.Checksum(defaultModelFile[16:], crc32.MakeTable(crc32.Castagnoli)), binary.LittleEndian.Uint32(defaultModelFile[12:]))
}

func TestReadModelRejects(t *testing.T) {
	good := defaultModelFile
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := map[string]struct {
		file []byte
		msg  string
	}{
		"empty":     {nil, "the header alone is 16"},
		"magic":     {mutate(func(b []byte) []byte { b[0] = 'X'; return b }), "magic"},
		"version 2": {mutate(func(b []byte) []byte { b[4] = 2; return b }), "format version 2, this build reads version 3: retrain"},
		"version 4": {mutate(func(b []byte) []byte { b[4] = 4; return b }), "format version 4, this build reads version 3"},
		"reserved":  {mutate(func(b []byte) []byte { b[6] = 1; return b }), "reserved"},
		"truncated": {good[:len(good)-10], "the file has"},
		"bit flip":  {mutate(func(b []byte) []byte { b[len(b)/2] ^= 4; return b }), "checksum"},
	}
	for name, c := range cases {
		_, err := ReadModel(c.file)
		require.ErrorContains(t, err, c.msg, name)
		require.True(t, errors.Is(err, ErrModelFormat), name)
	}
}

func TestReadModelRejectsBadTrees(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	// A child index pointing back at its parent would loop forever.
	tree := &m.doc.Codecs["lorenzo"].Experts[0].MSE.Trees[0]
	tree.Left[0] = 0
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	_, err = ReadModel(b)
	require.ErrorContains(t, err, "malformed")
	require.ErrorIs(t, err, ErrModelFormat)
}

func FuzzReadModel(f *testing.F) {
	f.Add(defaultModelFile[:64])
	f.Add([]byte("EPSQ\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadModel(b)
		if err == nil {
			// A model that loads must predict without panicking.
			f := &Features{Count: 10, Valid: 1, Lo: 0, Hi: 1, Lorenzo: []float64{-0.1, 0, 0.1}}
			for _, name := range m.Codecs() {
				cm, _ := m.codec(name)
				newPredictor(cm, f, 1).predict(1e-3, needMSE|needBytes|needSSIM)
			}
		}
	})
}

func TestReadModelRejectsBadCalibration(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	c := &m.doc.Codecs["lorenzo"].Calibration
	c.MSE[3], c.MSE[4] = c.MSE[4]+1, c.MSE[3]
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	_, err = ReadModel(b)
	require.ErrorContains(t, err, "ascending")
	c.MSE = c.MSE[:5]
	b, err = m.MarshalBinary()
	require.NoError(t, err)
	_, err = ReadModel(b)
	require.ErrorContains(t, err, "5 quantiles, expected 21")
}

func TestDefaultModelCalibration(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	for _, name := range m.Codecs() {
		cm, _ := m.codec(name)
		// Held-out residuals spread both ways around the fit.
		for _, qs := range [][]float64{cm.Calibration.MSE, cm.Calibration.Bytes, cm.Calibration.SSIM} {
			require.Less(t, quantileOf(qs, 0.1), quantileOf(qs, 0.9), name)
			require.Greater(t, quantileOf(qs, 0.95), 0.0, name)
		}
	}
}

func TestReadModelRejectsBadSizeBase(t *testing.T) {
	cases := map[string]func(cm *CodecModel){
		"the size base has 3 coefficients, expected 4": func(cm *CodecModel) { cm.SizeBase = cm.SizeBase[:3] },
		"the size base has 0 coefficients, expected 4": func(cm *CodecModel) { cm.SizeBase = nil },
	}
	for msg, mutate := range cases {
		m, err := DefaultModel()
		require.NoError(t, err)
		mutate(m.doc.Codecs["lorenzo"])
		b, err := m.MarshalBinary()
		require.NoError(t, err)
		_, err = ReadModel(b)
		require.ErrorContains(t, err, msg)
		require.ErrorIs(t, err, ErrModelFormat)
	}
}

func TestSizeAndErrorIgnoreSSIMWindows(t *testing.T) {
	// The squared error and size ensembles are fit without the SSIM
	// estimate, so sampling windows changes the SSIM prediction only.
	m, err := DefaultModel()
	require.NoError(t, err)
	fields := realFields(t)
	f := &fields[0]
	chunks, err := splitChunks(f, f.Shape)
	require.NoError(t, err)
	c := chunks[0]
	vals, fillT := floatsOf(f.Raw, f.DType, f.Fill)
	lo, hi := valueRange(vals, fillT)
	plain := computeFeatures(c.Vals, c.Shape, fillT, false)
	windowed := computeFeatures(c.Vals, c.Shape, fillT, false)
	windowed.addWindows(c.Vals, c.Shape, fillT)
	require.NotEmpty(t, windowed.WindowVar)
	for _, name := range m.Codecs() {
		cm, _ := m.codec(name)
		for _, eb := range []float64{1e-4, 1e-3, 1e-2} {
			eb *= hi - lo
			a := newPredictor(cm, plain, hi-lo).evaluate(eb, needMSE|needBytes|needSSIM)
			b := newPredictor(cm, windowed, hi-lo).evaluate(eb, needMSE|needBytes|needSSIM)
			require.Equal(t, a.MSE, b.MSE, "%s eb %g", name, eb)
			require.Equal(t, a.Bytes, b.Bytes, "%s eb %g", name, eb)
			require.NotEqual(t, a.SSIMDeficit, b.SSIMDeficit, "%s eb %g", name, eb)
		}
	}
}
