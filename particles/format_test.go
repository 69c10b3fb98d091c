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
	// Version 2, 3 particles, then three sections of one raw block each:
	// gaps 0 0 1 (indices 0, 1, 3); symbols 19 (level 1, steps +1 -1 0),
	// 28 (level 3) and 30 (exact); zigzag steps -16 +5 +1 and 0 -1 0.
	assert.Equal(t, "0203"+"030003000001"+"030003131c1e"+"0600061f0a02000100", hex.EncodeToString(got))

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
		"particle past end":  {2, 1, 1, 0, 1, 4, 1, 0, 1, 13, 0},
		"symbol too high":    {2, 1, 1, 0, 1, 0, 1, 0, 1, 31, 0},
		"steps over limit":   {2, 1, 1, 0, 1, 0, 1, 0, 1, 27, 3, 0, 3, 10, 0, 0}, // +5 steps at level 2
		"steps missing":      {2, 1, 1, 0, 1, 0, 1, 0, 1, 27, 0},
		"steps left over":    {2, 1, 1, 0, 1, 0, 1, 0, 1, 13, 1, 0, 1, 0},
		"symbols short":      {2, 2, 2, 0, 2, 0, 0, 1, 0, 1, 13, 0},
		"too many particles": {2, 5, 0, 0, 0},
		"block mode":         {2, 1, 1, 7, 1, 0, 1, 0, 1, 13, 0},
		"raw block short":    {2, 1, 1, 0, 0, 1, 0, 1, 13, 0},
		"huffman garbage":    {2, 1, 1, 1, 2, 0xff, 0xff, 1, 0, 1, 13, 0},
		"block past end":     {2, 1, 1, 0, 9, 0},
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

func TestCorrectionHuffmanSections(t *testing.T) {
	// A correction of many level-1 particles, most of them unmoved on most
	// axes, codes its gaps and symbols with Huffman blocks.
	n := 200000
	dec := [3][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
	corr := &correction{}
	for k := range 70000 {
		i := int32(k*2 + k%3/2)
		corr.index = append(corr.index, i)
		corr.level = append(corr.level, 1)
		corr.steps = append(corr.steps, [3]int64{int64(k % 5 / 4), 0, -int64(k % 7 / 6)})
	}
	corr.index[len(corr.index)-1] = int32(n - 1)
	corr.level[len(corr.level)-1] = levelExact
	data := appendCorrection(nil, corr)
	assert.Less(t, len(data), 70000/2, "coded size")
	back, err := decodeCorrection(data, dec, codecs.Float32, 1e-3)
	require.NoError(t, err)
	assert.Equal(t, corr, back)
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

func FuzzSection(f *testing.F) {
	skewed := make([]byte, 3000)
	for i := range skewed {
		skewed[i] = byte(i % 7 / 5)
	}
	f.Add(appendSection(nil, skewed))
	f.Add(appendSection(nil, make([]byte, 100)))
	f.Add(appendSection(nil, []byte{1, 2, 3}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := reader{data: data}
		out := r.section(4096)
		if r.err != nil {
			return
		}
		// What decodes codes again to the same bytes.
		again := reader{data: appendSection(nil, out)}
		assert.Equal(t, out, again.section(4096))
		assert.NoError(t, again.err)
	})
}
