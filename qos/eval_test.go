package qos

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEvaluateSmallFamilies(t *testing.T) {
	var fields []Field
	for _, f := range realFields(t) {
		if strings.HasPrefix(f.Name, "nyx_z4.2_velocity") || strings.HasPrefix(f.Name, "sz3_testfloat") {
			fields = append(fields, f)
		}
	}
	require.Len(t, fields, 4)
	targets := []Target{{PSNRMetric, 50}, {RatioMetric, 8}}
	rep, err := Evaluate(fields, EvalOptions{
		Train:   TrainOptions{Codecs: []string{"lorenzo"}, BlockBytes: []int{32 << 10}, Experts: 2},
		Targets: targets,
	})
	require.NoError(t, err)
	require.Len(t, rep.Cases, len(fields)*len(targets))
	require.Len(t, rep.Rows, len(targets))

	for _, c := range rep.Cases {
		name := c.Field + " " + c.Target
		require.True(t, c.Verify.Hit, "verify mode missed %s", name)
		// The oracle bisects with real compressions, so it meets the
		// target on every chunk and thus on the field.
		require.True(t, c.Oracle.Hit, "the oracle missed %s", name)
		require.Greater(t, c.Oracle.Ratio, 1.0, name)
		require.GreaterOrEqual(t, c.VerifyCompressions, 1.0, name)
		require.False(t, math.IsNaN(c.RatioAPE), name)
		require.Greater(t, c.SelectionCost, 0.0, name)
	}
	for _, r := range rep.Rows {
		require.Equal(t, "lorenzo", r.Codec)
		require.Equal(t, 100.0, r.VerifyHit, r.Metric)
	}
}
