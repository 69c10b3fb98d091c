package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/particles"
	"github.com/epsilon-db/epsilon/qos"
)

func TestExportParticlesArrow(t *testing.T) {
	m := realdata.ForTest(t)
	f, ok := m.Lookup("hfof_cosmo32768_pos")
	require.True(t, ok)
	src := filepath.Join(m.Dir, f.Path)
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	const bound = 0.00125
	_, err := run(t, "particles", "import", "--db", db, "--name", "hfof", "--pos", src, "--box", "1", "--periodic",
		"--link", "0.00625", "--bound", "0.00125")
	require.NoError(t, err)

	out := filepath.Join(dir, "hfof.arrow")
	stdout, err := run(t, "export", "--db", db, "--name", "hfof", "--arrow", out, "--group")
	require.NoError(t, err)
	assert.Contains(t, stdout, "exported particle dataset hfof (32768 particles)")

	file, err := os.Open(out)
	require.NoError(t, err)
	defer file.Close()
	r, err := ipc.NewFileReader(file)
	require.NoError(t, err)
	defer r.Close()
	var got [4][]float64 // x, y, z, group
	for i := range r.NumRecords() {
		rec, err := r.RecordBatch(i)
		require.NoError(t, err)
		for c := range 3 {
			for _, v := range rec.Column(c).(*array.Float32).Float32Values() {
				got[c] = append(got[c], float64(v))
			}
		}
		for _, v := range rec.Column(3).(*array.Int64).Int64Values() {
			got[3] = append(got[3], float64(v))
		}
	}

	pos, _, err := particles.LoadColumns(src, codecs.Float32, 3)
	require.NoError(t, err)
	for c := range 3 {
		st := qos.Compare(pos[c], got[c], bound, nil)
		assert.NoError(t, st.Err(), "column %d", c)
	}
	groups, err := particles.FoF(pos[0], pos[1], pos[2], particles.Space{Box: 1, Periodic: true}, 0.00625)
	require.NoError(t, err)
	want := make([]float64, len(groups.Labels))
	for i, l := range groups.Labels {
		want[i] = float64(l)
	}
	assert.Equal(t, want, got[3], "group labels against FoF on the original positions")

	_, err = run(t, "export", "--db", db, "--name", "hfof", "--arrow", out, "--region", "0:10")
	assert.ErrorContains(t, err, "particle dataset")
}
