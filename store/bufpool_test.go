package store

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
)

func TestBufClassBounds(t *testing.T) {
	for _, n := range []int{1, 64, 65, 1000, 4096, 4097, 1 << 20, 1<<20 + 1, 3 << 20, 94287} {
		c := bufClass(n)
		require.GreaterOrEqual(t, c, n, "class of %d", n)
		require.LessOrEqual(t, c-n, max(64, c/5), "waste of class %d for %d", c, n)
		require.Equal(t, c, bufClass(c), "class %d of %d is not its own class", c, n)
	}
}

func TestBufferPoolReusesWithinRoom(t *testing.T) {
	var p bufferPool
	a := p.get(1<<20, 4<<20)
	require.Len(t, a, 1<<20)
	a[0] = 7
	p.put(a, 4<<20)
	require.EqualValues(t, 1<<20, p.bytes)

	b := p.get(1<<20-10, 4<<20)
	require.Len(t, b, 1<<20-10)
	require.Equal(t, byte(7), b[0], "get returned a new buffer, not the free one")
	require.Zero(t, p.bytes)

	// No room: the buffer is left to the collector.
	p.put(b, 1<<19)
	require.Zero(t, p.bytes)

	// A miss of another class drops free buffers beyond the room.
	p.put(p.get(1<<20, 8<<20), 8<<20)
	p.put(p.get(1<<20, 8<<20), 8<<20)
	require.EqualValues(t, 1<<20, p.bytes, "one buffer of the class was free")
	p.get(100<<10, 0)
	require.Zero(t, p.bytes)

	// A buffer that get did not make is never kept.
	p.put(make([]byte, 1000), 8<<20)
	require.Zero(t, p.bytes)
}

func TestWriteBehindSetsMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	if prev != math.MaxInt64 {
		t.Skipf("the process runs with a memory limit of %d bytes (GOMEMLIMIT), which the store leaves alone", prev)
	}
	const maxPending = 32 << 20
	db := openMode(t, true, Options{MaxPendingBytes: maxPending})
	limit := debug.SetMemoryLimit(-1)
	require.NotEqual(t, int64(math.MaxInt64), limit, "no limit while a write-behind DB is open")
	require.GreaterOrEqual(t, limit, int64(maxPending+memLimitSlack))

	_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 64, 64}, Unlimited: true, Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: 1e-3}})
	require.NoError(t, err)
	step := make([]float32, 64*64)
	for range 4 {
		_, err := db.Append("a", []int{1, 64, 64}, step)
		require.NoError(t, err)
	}
	require.NoError(t, db.Flush())
	require.NoError(t, db.Close())
	require.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1), "the limit outlived the DB")
}

func TestWriteBehindKeepsApplicationMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	const own = 7 << 30
	debug.SetMemoryLimit(own)
	defer debug.SetMemoryLimit(prev)
	db := openMode(t, true, Options{})
	require.EqualValues(t, own, debug.SetMemoryLimit(-1))
	require.NoError(t, db.Close())
	require.EqualValues(t, own, debug.SetMemoryLimit(-1))
}

func TestRegionOutsideArrayIsInvalid(t *testing.T) {
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			db := openMode(t, m.wb, Options{})
			_, err := db.Create("a", ArrayOptions{DType: codecs.Float32, Shape: []int{0, 8}, Unlimited: true})
			require.NoError(t, err)
			_, err = db.Append("a", []int{2, 8}, make([]float32, 16))
			require.NoError(t, err)
			require.NoError(t, db.Flush())
			past := chunk.Region{Start: []int{2, 0}, Stop: []int{3, 8}}
			err = db.Read("a", past, make([]float32, 8))
			require.ErrorIs(t, err, ErrInvalidRegion)
			err = db.Write("a", past, make([]float32, 8))
			require.ErrorIs(t, err, ErrInvalidRegion)
		})
	}
}
