package store

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

// TestMissingChunkIsCorrupt deletes one chunk key of an imported
// array. Every chunk of it was stored, so reads, partial writes and verify
// must report the loss instead of returning fill values.
func TestMissingChunkIsCorrupt(t *testing.T) {
	db := openTest(t)
	shape := chunk.Shape{12, 40}
	data := smooth(shape.Count(), 21)
	info, err := db.Import("imp", bytes.NewReader(sliceBytes(data)), int64(4*len(data)),
		ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{4, 40}, Bound: abs(0.01)}, nil)
	require.NoError(t, err)
	stored, err := db.Info("imp")
	require.NoError(t, err)
	require.True(t, stored.Complete, "an import stores every chunk")

	var events []CorruptionInfo
	db.opts.Events.Corruption = func(ci CorruptionInfo) { events = append(events, ci) }
	require.NoError(t, db.pdb.Delete(appendChunkKey(nil, info.ID, []int{1, 0}), nil))

	err = db.Read("imp", chunk.Full(shape), make([]float32, shape.Count()))
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, `array "imp" chunk [1 0]`)
	require.NotEmpty(t, events)

	// Rows of the other chunks still read.
	require.NoError(t, db.Read("imp", chunk.Region{Start: []int{0, 0}, Stop: []int{4, 40}}, make([]float32, 160)))

	// A partial write into the lost chunk does not paper over the loss.
	err = db.Write("imp", chunk.Region{Start: []int{5, 0}, Stop: []int{6, 40}}, make([]float32, 40))
	require.ErrorIs(t, err, ErrCorrupt)

	problems, err := db.Verify("imp", nil)
	require.NoError(t, err)
	require.Len(t, problems, 1)
	require.Equal(t, ProblemMissingChunk, problems[0].Kind)
	require.Equal(t, []int{1, 0}, problems[0].Coords)
	problems, err = db.Verify("", nil)
	require.NoError(t, err)
	require.Len(t, problems, 1)
	require.Equal(t, ProblemMissingChunk, problems[0].Kind)
}

// TestPartialArrayReadsFill checks that an array written
// only in part still reads its unwritten chunks as fill values, and that a
// write of the whole array then marks it complete.
func TestPartialArrayReadsFill(t *testing.T) {
	db := openTest(t)
	shape := chunk.Shape{8, 10}
	_, err := db.Create("p", ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: []int{4, 10}, Bound: abs(0.1)})
	require.NoError(t, err)
	require.NoError(t, db.Write("p", chunk.Region{Start: []int{0, 0}, Stop: []int{4, 10}}, smooth(40, 1)))
	info, err := db.Info("p")
	require.NoError(t, err)
	require.False(t, info.Complete)
	got := make([]float32, 80)
	require.NoError(t, db.Read("p", chunk.Full(shape), got))
	require.Equal(t, float32(0), got[79])
	problems, err := db.Verify("p", nil)
	require.NoError(t, err)
	require.Empty(t, problems)

	require.NoError(t, db.Write("p", chunk.Full(shape), smooth(80, 2)))
	info, err = db.Info("p")
	require.NoError(t, err)
	require.True(t, info.Complete, "a write of the whole array stores every chunk")
}
