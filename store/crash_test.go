package store_test

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/errstat"
	"github.com/epsilon-db/epsilon/store"
)

// crashChildEnv names the store folder a re-executed test binary imports
// into until it is killed.
const crashChildEnv = "EPSILON_CRASH_CHILD_DB"

// TestMain runs the crash child when the environment asks for it.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		runCrashChild(dir, os.Getenv("EPSILON_CRASH_CHILD_PREFIX"))
		return
	}
	os.Exit(m.Run())
}

// crashArray returns the shape and values of the i-th array the crash child
// imports: several chunks, so that an import spans several batches.
func crashArray(i int) ([]int, []float32) {
	shape := []int{16 + i%5, 40, 36}
	rng := rand.New(rand.NewPCG(uint64(i), 99))
	data := make([]float32, chunk.Shape(shape).Count())
	for k := range data {
		data[k] = float32(50*math.Sin(float64(k)/29+float64(i)) + rng.NormFloat64())
	}
	return shape, data
}

const crashBound = 0.05

// runCrashChild imports arrays prefix-0, prefix-1, ... into dir with synced
// writes and prints "ok N" after each import returns, until it is killed.
func runCrashChild(dir, prefix string) {
	db, err := store.Open(dir, &store.Options{Concurrency: 2, ChunkBytes: 4 << 10})
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		shape, data := crashArray(i)
		raw := make([]byte, 4*len(data))
		for k, v := range data {
			b := math.Float32bits(v)
			raw[4*k], raw[4*k+1], raw[4*k+2], raw[4*k+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
		}
		name := fmt.Sprintf("%s-%d", prefix, i)
		_, err := db.Import(name, strings.NewReader(string(raw)), int64(len(raw)), store.ArrayOptions{
			DType: codecs.Float32, Shape: shape, Chunks: []int{4, 20, 36},
			Bound: codecs.Bound{Mode: codecs.ModeAbs, Value: crashBound},
		}, nil)
		if err != nil {
			fmt.Fprintln(out, "import failed:", err)
			out.Flush()
			os.Exit(3)
		}
		fmt.Fprintf(out, "ok %d\n", i)
		out.Flush()
	}
}

// CrashOnce starts a child that imports into dir, kills it with SIGKILL
// after delay, and returns the indexes of the imports it acknowledged.
func crashOnce(t testing.TB, dir, prefix string, delay time.Duration) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, "EPSILON_CRASH_CHILD_PREFIX="+prefix)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(delay)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	var acked []int
	for line := range lines {
		n, ok := strings.CutPrefix(line, "ok ")
		require.True(t, ok, "child: %s", line)
		i, err := strconv.Atoi(n)
		require.NoError(t, err)
		acked = append(acked, i)
	}
	_ = cmd.Wait()
	return acked
}

// checkAfterCrash opens dir and checks that every acknowledged import of
// prefix is whole and within bound, that every visible array of prefix is
// one the child started (and whole), and that Verify finds nothing.
func checkAfterCrash(t testing.TB, dir, prefix string, acked []int) {
	t.Helper()
	db, err := store.Open(dir, nil)
	require.NoError(t, err)
	defer db.Close()
	visible := map[string]bool{}
	list, err := db.List()
	require.NoError(t, err)
	for _, a := range list {
		visible[a.Name] = true
	}
	last := -1
	for _, i := range acked {
		last = max(last, i)
	}
	for i := 0; i <= last+1; i++ {
		name := fmt.Sprintf("%s-%d", prefix, i)
		if !visible[name] {
			require.Greater(t, i, last, "acknowledged import %s is missing", name)
			continue
		}
		shape, data := crashArray(i)
		got := make([]float32, len(data))
		require.NoError(t, db.Read(name, chunk.Full(shape), got), name)
		s := errstat.Compare(data, got, crashBound, nil)
		require.NoError(t, s.Err(), "array %s", name)
		delete(visible, name)
	}
	for name := range visible {
		require.False(t, strings.HasPrefix(name, prefix+"-"), "array %s visible but never started", name)
	}
	problems, err := db.Verify("", nil)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestCrashDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := filepath.Join(t.TempDir(), "db")
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 4 {
		prefix := fmt.Sprintf("it%d", iter)
		delay := time.Duration(150+rng.IntN(400)) * time.Millisecond
		acked := crashOnce(t, dir, prefix, delay)
		t.Logf("iteration %d: killed after %v, %d imports acknowledged", iter, delay, len(acked))
		checkAfterCrash(t, dir, prefix, acked)
	}
}

func float32Bytes(data []float32) []byte {
	raw := make([]byte, 4*len(data))
	for k, v := range data {
		b := math.Float32bits(v)
		raw[4*k], raw[4*k+1], raw[4*k+2], raw[4*k+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
	}
	return raw
}

func bytesReader(b []byte) *strings.Reader { return strings.NewReader(string(b)) }
