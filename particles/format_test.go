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
		pairs: [][2]int32{{0, 1}, {0, 3}, {2, 3}},
		exact: []int32{1, 3},
	}
	corr.exactPos[0] = []float64{float64(math.Nextafter32(2, 3)), 4}
	corr.exactPos[1] = []float64{0.25, float64(math.Nextafter32(16, 0))}
	corr.exactPos[2] = []float64{float64(math.Nextafter32(-2, 0)), 20}
	return corr, dec
}

func TestCorrectionGoldenBytes(t *testing.T) {
	corr, dec := goldenCorrection()
	got := appendCorrection(nil, corr, dec, codecs.Float32)
	// version 1; 3 pairs (0,1) (0,3) (2,3); 2 exact particles 1 and 3;
	// zigzag deltas +1 0 +1 for particle 1 and 0 -1 0 for particle 3.
	assert.Equal(t, "0103000000020200020101020002000100", hex.EncodeToString(got))

	back, err := decodeCorrection(got, dec, codecs.Float32, 1e-3)
	require.NoError(t, err)
	assert.Equal(t, corr, back)
}

func TestCorrectionRejectsCorruptData(t *testing.T) {
	corr, dec := goldenCorrection()
	good := appendCorrection(nil, corr, dec, codecs.Float32)
	cases := map[string][]byte{
		"empty":          {},
		"version":        append([]byte{2}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"pair past end":  {1, 1, 0, 9, 0},
		"pairs unsorted": {1, 2, 0, 2, 0, 0, 0},
		"exact past end": {1, 0, 1, 4, 0, 0, 0},
	}
	for name, data := range cases {
		_, err := decodeCorrection(data, dec, codecs.Float32, 1e-3)
		assert.ErrorIs(t, err, store.ErrCorrupt, name)
	}
	// An exact coordinate farther than the encode bound from its decoded
	// value cannot come from the codec.
	_, err := decodeCorrection(good, dec, codecs.Float32, 1e-9)
	assert.ErrorIs(t, err, store.ErrCorrupt)
}

func FuzzDecodeCorrection(f *testing.F) {
	corr, dec := goldenCorrection()
	f.Add(appendCorrection(nil, corr, dec, codecs.Float32))
	f.Add([]byte{1, 0, 0})
	f.Add([]byte{1, 1, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dtype := range []codecs.DType{codecs.Float32, codecs.Float64} {
			c, err := decodeCorrection(data, dec, dtype, 0.5)
			if err != nil {
				continue
			}
			// What decodes must survive a second encode and decode, and
			// the correction must run on it without panicking.
			again, err := decodeCorrection(appendCorrection(nil, c, dec, dtype), dec, dtype, 0.5)
			require.NoError(t, err)
			assert.Equal(t, c, again)
			pos := [3][]float64{append([]float64(nil), dec[0]...), append([]float64(nil), dec[1]...), append([]float64(nil), dec[2]...)}
			applyCorrection(pos[0], pos[1], pos[2], c, geometry{space: Space{Box: 32, Periodic: true}, link: 1, margin: 0.1, dtype: dtype})
		}
	})
}
