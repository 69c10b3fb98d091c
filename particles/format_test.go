package particles

import (
	"encoding/hex"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/store"
)

func goldenCorrection() (*correction, [3][]float64) {
	dec := [3][]float64{{1, 2, 3, 4}, {0.5, 0.25, 8, 16}, {-1, -2, 10, 20}}
	corr := &correction{
		index: []int32{0, 1, 3},
		level: []uint8{1, 3, levelExact},
		steps: [][3]int64{{1, -1, 0}, {-16, 5, 1}, {0, -1, 0}},
	}
	return corr, dec
}

func TestCorrectionGoldenBytes(t *testing.T) {
	corr, dec := goldenCorrection()
	got := appendCorrection(nil, corr)
	// version 2; 3 particles at gaps 0 0 1 (indices 0, 1, 3); levels 1, 3
	// and exact; zigzag steps +1 -1 0, -16 +5 +1, 0 -1 0.
	assert.Equal(t, "02030000010103050201001f0a02000100", hex.EncodeToString(got))

	back, err := decodeCorrection(got, dec, codecs.Float32, 1e-3)
	require.NoError(t, err)
	assert.Equal(t, corr, back)

	// Level 1 moves by steps of the bound, level 3 by bound/16; the exact
	// particle moves one float32 value down on y.
	pos := [3][]float64{append([]float64(nil), dec[0]...), append([]float64(nil), dec[1]...), append([]float64(nil), dec[2]...)}
	back.apply(pos, 0.5, codecs.Float32)
	assert.Equal(t, []float64{1.5, 1.5, 3, 4}, pos[0])
	assert.Equal(t, []float64{0, 0.25 + 5*0.5/16, 8, float64(math.Nextafter32(16, 0))}, pos[1])
	assert.Equal(t, []float64{-1, -2 + 0.5/16, 10, 20}, pos[2])
}

func TestCorrectionRejectsCorruptData(t *testing.T) {
	corr, dec := goldenCorrection()
	good := appendCorrection(nil, corr)
	cases := map[string][]byte{
		"empty":              {},
		"version":            append([]byte{1}, good[1:]...),
		"truncated":          good[:len(good)-1],
		"trailing":           append(append([]byte{}, good...), 0),
		"particle past end":  {2, 1, 4, 1, 0, 0, 0},
		"level zero":         {2, 1, 0, 0, 0, 0, 0},
		"level too high":     {2, 1, 0, levelExact + 1, 0, 0, 0},
		"steps over limit":   {2, 1, 0, 1, 4, 0, 0}, // +2 steps at level 1
		"levels cut short":   {2, 2, 0, 0, 1},
		"too many particles": {2, 5, 0, 0, 0, 0, 0},
	}
	for name, data := range cases {
		_, err := decodeCorrection(data, dec, codecs.Float32, 1e-3)
		assert.ErrorIs(t, err, store.ErrCorrupt, name)
	}
	// An exact coordinate farther than the bound from its decoded value
	// cannot come from the codec.
	_, err := decodeCorrection(good, dec, codecs.Float32, 1e-9)
	assert.ErrorIs(t, err, store.ErrCorrupt)
}

func TestDeltasRoundTrip(t *testing.T) {
	v := []int64{5, 3, 3, 1 << 40, -7, 0}
	got, err := decodeDeltas(appendDeltas(nil, v), len(v))
	require.NoError(t, err)
	assert.Equal(t, v, got)
	// 5, -2, 0: zigzag 0a 03 00.
	assert.Equal(t, "0a0300", hex.EncodeToString(appendDeltas(nil, v[:3])))
	_, err = decodeDeltas(appendDeltas(nil, v), len(v)+1)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	_, err = decodeDeltas(appendDeltas(nil, v), len(v)-1)
	assert.ErrorIs(t, err, store.ErrCorrupt)
}

func FuzzDecodeCorrection(f *testing.F) {
	corr, dec := goldenCorrection()
	f.Add(appendCorrection(nil, corr))
	f.Add([]byte{2, 0})
	f.Add([]byte{2, 1, 0, 1, 0, 0, 0})
	f.Add([]byte{2, 1, 0, levelExact, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dtype := range []codecs.DType{codecs.Float32, codecs.Float64} {
			c, err := decodeCorrection(data, dec, dtype, 0.5)
			if err != nil {
				continue
			}
			// What decodes must survive a second encode and decode, and
			// the correction must apply without panicking, within twice
			// the bound of every decoded value.
			again, err := decodeCorrection(appendCorrection(nil, c), dec, dtype, 0.5)
			require.NoError(t, err)
			assert.Equal(t, c, again)
			pos := [3][]float64{append([]float64(nil), dec[0]...), append([]float64(nil), dec[1]...), append([]float64(nil), dec[2]...)}
			c.apply(pos, 0.5, dtype)
			for d := range 3 {
				for i := range pos[d] {
					assert.LessOrEqual(t, math.Abs(pos[d][i]-dec[d][i]), 1.0)
				}
			}
		}
	})
}

func FuzzDecodeDeltas(f *testing.F) {
	f.Add(appendDeltas(nil, []int64{5, 3, 3, 1 << 40}), 4)
	f.Add([]byte{0x80}, 1)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		v, err := decodeDeltas(data, n)
		if err != nil {
			assert.ErrorIs(t, err, store.ErrCorrupt)
			return
		}
		assert.Len(t, v, n)
		again, err := decodeDeltas(appendDeltas(nil, v), n)
		require.NoError(t, err)
		assert.Equal(t, v, again)
	})
}
