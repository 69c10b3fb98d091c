package qos

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEvalReportJSONNulls(t *testing.T) {
	rep := &EvalReport{Rows: []EvalRow{{Metric: "ssim", Codec: "lorenzo", Cases: 2, VerifyVsClosed: math.NaN(), PSNRVsOracle: math.Inf(1), FastHit: 50}}}
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	var got map[string][]map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	row := got["rows"][0]
	require.Nil(t, row["verify_vs_closed"])
	require.Nil(t, row["psnr_vs_oracle_db"])
	require.Equal(t, 50.0, row["fast_hit_pct"])
	require.Equal(t, "ssim", row["metric"])
}
