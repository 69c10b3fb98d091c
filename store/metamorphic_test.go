package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/errstat"
)

// modelArray is the in-memory model of one array: the last value written
// to each element (zero where none was) and the bound reads must meet.
type modelArray struct {
	shape  []int
	values []float32
	bound  float64
}

// TestMetamorphicOperations runs random sequences of create, write, read,
// delete, compact, recompress, verify and reopen under random options and
// codecs, and checks every read against the model within its bound. Set
// EPSILON_METAMORPHIC_SEED to replay a failing seed.
func TestMetamorphicOperations(t *testing.T) {
	seeds := []uint64{uint64(time.Now().UnixNano()), 1, 2}
	if s := os.Getenv("EPSILON_METAMORPHIC_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		seeds = []uint64{v}
	}
	steps := 150
	if testing.Short() {
		steps = 50
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			runMetamorphic(t, seed, steps)
		})
	}
}

func runMetamorphic(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 42))
	dir := filepath.Join(t.TempDir(), "db")
	open := func() *DB {
		db, err := Open(dir, &Options{NoSync: true, Concurrency: 1 + rng.IntN(3), ChunkBytes: 1 << (8 + rng.IntN(6))})
		require.NoError(t, err, "seed %d", seed)
		return db
	}
	db := open()
	defer func() { db.Close() }()
	model := map[string]*modelArray{}
	names := []string{"a", "b", "c", "d"}
	codecNames := codecs.Names()
	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d (replay with EPSILON_METAMORPHIC_SEED=%d), after %v: %s", seed, seed, log, fmt.Sprintf(format, args...))
	}

	for step := range steps {
		name := names[rng.IntN(len(names))]
		m := model[name]
		switch op := rng.IntN(10); {
		case op == 0 || m == nil:
			if m != nil {
				continue
			}
			ndim := 1 + rng.IntN(3)
			shape, chunks := make([]int, ndim), make([]int, ndim)
			for i := range shape {
				shape[i] = 1 + rng.IntN(20)
				chunks[i] = 1 + rng.IntN(shape[i])
			}
			codec := codecNames[rng.IntN(len(codecNames))]
			bound := codecs.Bound{}
			if codec != "lossless" || rng.IntN(2) == 0 {
				bound = abs([]float64{1e-3, 0.01, 0.5}[rng.IntN(3)])
			}
			_, err := db.Create(name, ArrayOptions{DType: codecs.Float32, Shape: shape, Chunks: chunks, Codec: codec, Bound: bound})
			if err != nil {
				fail("create %s: %v", name, err)
			}
			model[name] = &modelArray{shape: shape, values: make([]float32, chunk.Shape(shape).Count()), bound: bound.Absolute(0)}
			log = append(log, fmt.Sprintf("create %s %v/%v %s %s", name, shape, chunks, codec, bound))
		case op <= 3:
			r := randomRegion(rng, m.shape)
			buf := make([]float32, r.Count())
			base := rng.Float64() * 100
			for i := range buf {
				buf[i] = float32(base + 10*float64(i%7) + rng.NormFloat64())
			}
			if err := db.Write(name, r, buf); err != nil {
				fail("write %s %v: %v", name, r, err)
			}
			copyValues(sliceBytes(m.values), m.shape, r.Start, sliceBytes(buf), r.Shape(), make([]int, len(r.Start)), r.Shape(), 4)
			log = append(log, fmt.Sprintf("write %s %v", name, r))
		case op <= 5:
			r := randomRegion(rng, m.shape)
			got := make([]float32, r.Count())
			if err := db.Read(name, r, got); err != nil {
				fail("read %s %v: %v", name, r, err)
			}
			want := make([]float32, r.Count())
			copyValues(sliceBytes(want), r.Shape(), make([]int, len(r.Start)), sliceBytes(m.values), m.shape, r.Start, r.Shape(), 4)
			if s := errstat.Compare(want, got, m.bound, nil); !s.OK() {
				fail("read %s %v: %v", name, r, s.Err())
			}
		case op == 6:
			if err := db.Delete(name); err != nil {
				fail("delete %s: %v", name, err)
			}
			delete(model, name)
			log = append(log, "delete "+name)
		case op == 7:
			if m.bound == 0 {
				continue
			}
			looser := m.bound * (1 + 4*rng.Float64())
			if _, err := db.Recompress(name, RecompressOptions{Bound: abs(looser)}); err != nil {
				fail("recompress %s to %g: %v", name, looser, err)
			}
			m.bound = looser
			log = append(log, fmt.Sprintf("recompress %s %g", name, looser))
		case op == 8:
			if rng.IntN(2) == 0 {
				if err := db.Compact(context.Background()); err != nil {
					fail("compact: %v", err)
				}
				log = append(log, "compact")
			} else {
				problems, err := db.Verify("", nil)
				if err != nil || len(problems) > 0 {
					fail("verify: %v %v", problems, err)
				}
			}
		default:
			require.NoError(t, db.Close())
			db = open()
			log = append(log, "reopen")
		}
		if len(log) > 40 {
			log = log[len(log)-40:]
		}
		_ = step
	}
	problems, err := db.Verify("", nil)
	if err != nil || len(problems) > 0 {
		fail("final verify: %v %v", problems, err)
	}
}

func randomRegion(rng *rand.Rand, shape []int) chunk.Region {
	r := chunk.Region{Start: make([]int, len(shape)), Stop: make([]int, len(shape))}
	for i, n := range shape {
		a, b := rng.IntN(n), rng.IntN(n)
		if a > b {
			a, b = b, a
		}
		r.Start[i], r.Stop[i] = a, b+1
	}
	return r
}
