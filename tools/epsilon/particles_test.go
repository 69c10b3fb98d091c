package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
	"github.com/epsilon-db/epsilon/particles"
	"github.com/epsilon-db/epsilon/qos"
)

// particleFile returns the path of the real particle file whose name
// contains sub.
func particleFile(t *testing.T, sub string) string {
	t.Helper()
	m := realdata.ForTest(t)
	f, ok := m.Lookup(sub)
	require.True(t, ok, "no file matching %q", sub)
	return filepath.Join(m.Dir, f.Path)
}

func TestParticlesImportExportFoF(t *testing.T) {
	pos := particleFile(t, "hfof_cosmo32768_pos")
	orig, _, err := particles.LoadColumns(pos, codecs.Float32, 3)
	require.NoError(t, err)
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	const bound = 0.0003
	out, err := run(t, "particles", "import", "--db", db, "--name", "hfof", "--pos", pos,
		"--box", "1", "--periodic", "--link", "0.00625", "--bound", "0.0003", "--json")
	require.NoError(t, err)
	var info particles.Info
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	assert.Equal(t, len(orig[0]), info.Count)
	assert.True(t, info.Ordered)
	assert.Positive(t, info.Correction.Relabelled, "the plain decode changes groups")

	// Export in the original order, as .npy, within the bound.
	npyPath := filepath.Join(dir, "pos.npy")
	_, err = run(t, "particles", "export", "--db", db, "--name", "hfof", "--pos", npyPath)
	require.NoError(t, err)
	got, dtype, err := particles.LoadColumns(npyPath, codecs.Float64, 3)
	require.NoError(t, err)
	assert.Equal(t, codecs.Float32, dtype)
	for d := range 3 {
		assert.NoError(t, qos.Compare(orig[d], got[d], bound, nil).Err(), "axis %d", d)
	}
	space := particles.Space{Box: 1, Periodic: true}
	want, err := particles.FoF(orig[0], orig[1], orig[2], space, 0.00625)
	require.NoError(t, err)
	have, err := particles.FoF(got[0], got[1], got[2], space, 0.00625)
	require.NoError(t, err)
	assert.Equal(t, want.Labels, have.Labels)

	// The hfof reference: 12,765 groups, 70 with at least 20 members,
	// the largest of 4,897.
	out, err = run(t, "particles", "fof", "--db", db, "--name", "hfof", "--json")
	require.NoError(t, err)
	var rep fofReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, 12765, rep.Groups)
	assert.Equal(t, 70, rep.GroupsMin)
	assert.Equal(t, 4897, rep.Largest[0])

	// Without the correction the groups differ.
	out, err = run(t, "particles", "fof", "--db", db, "--name", "hfof", "--no-correct", "--json")
	require.NoError(t, err)
	var plain fofReport
	require.NoError(t, json.Unmarshal([]byte(out), &plain))
	assert.NotEqual(t, rep.Groups, plain.Groups)

	out, err = run(t, "particles", "fof", "--db", db, "--name", "hfof")
	require.NoError(t, err)
	assert.Contains(t, out, "12765 groups, 70 with >= 20 members")
}

func TestParticlesImportWithIDs(t *testing.T) {
	pos := particleFile(t, "hacc_toy_m000_step50_pos")
	vel := particleFile(t, "hacc_toy_m000_step50_vel")
	idsPath := particleFile(t, "hacc_toy_m000_step50_id_i64")
	ids, err := particles.LoadIDs(idsPath, codecs.Int64)
	require.NoError(t, err)
	origPos, _, err := particles.LoadColumns(pos, codecs.Float32, 3)
	require.NoError(t, err)
	origVel, _, err := particles.LoadColumns(vel, codecs.Float32, 3)
	require.NoError(t, err)
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	for _, keep := range []bool{false, true} {
		name := map[bool]string{false: "stored", true: "kept"}[keep]
		args := []string{"particles", "import", "--db", db, "--name", name, "--pos", pos, "--vel", vel, "--ids", idsPath,
			"--box", "256", "--periodic", "--link", "1.6", "--bound", "0.08", "--vel-bound", "0.5"}
		if keep {
			args = append(args, "--order", "original")
		}
		out, err := run(t, args...)
		require.NoError(t, err)
		assert.Contains(t, out, "imported "+name+": 32768 particles")

		p, v, i := filepath.Join(dir, name+"-pos.raw"), filepath.Join(dir, name+"-vel.npy"), filepath.Join(dir, name+"-ids.npy")
		_, err = run(t, "particles", "export", "--db", db, "--name", name, "--pos", p, "--vel", v, "--ids", i)
		require.NoError(t, err)
		gotIDs, err := particles.LoadIDs(i, codecs.Int64)
		require.NoError(t, err)
		gotPos, _, err := particles.LoadColumns(p, codecs.Float32, 3)
		require.NoError(t, err)
		gotVel, _, err := particles.LoadColumns(v, codecs.Float32, 3)
		require.NoError(t, err)
		if keep {
			assert.Equal(t, ids, gotIDs)
		} else {
			assert.ElementsMatch(t, ids, gotIDs)
		}
		// Match particles by id.
		at := map[int64]int{}
		for k, id := range ids {
			at[id] = k
		}
		for k, id := range gotIDs {
			o := at[id]
			for d := range 3 {
				require.InDelta(t, origPos[d][o], gotPos[d][k], 0.08, "particle %d axis %d", id, d)
				require.InDelta(t, origVel[d][o], gotVel[d][k], 0.5, "particle %d velocity %d", id, d)
			}
		}
	}
}

func TestParticlesBadInputWritesNothing(t *testing.T) {
	pos := particleFile(t, "hfof_cosmo32768_pos")
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"--bound", "0.01"}, "invalid bound 0.01: must be less than the linking length 0.00625"},
		{[]string{"--bound", "-1"}, "invalid bound -1"},
		{[]string{"--bound", "0.001", "--box", "0.5"}, "is outside the box [0, 0.5]"},
		{[]string{"--bound", "0.001", "--link", "0.6"}, "invalid linking length 0.6: must be at most half the box size 1"},
		{[]string{"--bound", "0.001", "--dtype", "u8"}, "positions and velocities are f32 or f64"},
		{[]string{"--bound", "0.001", "--order", "sorted"}, `invalid order "sorted": expected auto, original or stored`},
	}
	for _, c := range cases {
		args := append([]string{"particles", "import", "--db", db, "--name", "p", "--pos", pos, "--box", "1", "--periodic", "--link", "0.00625"}, c.args...)
		_, err := run(t, args...)
		require.Error(t, err, c.args)
		assert.Contains(t, err.Error(), c.msg)
	}
	_, err := os.Stat(db)
	assert.ErrorIs(t, err, os.ErrNotExist, "a rejected import created the store")
	_, err = run(t, "particles", "fof", "--db", db, "--name", "missing")
	assert.Error(t, err)
	_, err = run(t, "particles", "fof", "--db", filepath.Join(dir, "none"), "--name", "p")
	assert.ErrorContains(t, err, "none")
}
