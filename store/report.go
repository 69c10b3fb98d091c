package store

import "github.com/epsilon-db/epsilon/codecs"

// StatReport is the flat JSON form of an ArrayStat that `epsilon inspect
// --json` prints and the Flight server's stat action returns.
type StatReport struct {
	Name         string         `json:"name"`
	DType        codecs.DType   `json:"dtype"`
	Shape        []int          `json:"shape"`
	Chunks       []int          `json:"chunks"`
	Codec        string         `json:"codec"`
	Mode         codecs.Mode    `json:"mode"`
	Bound        float64        `json:"bound"`
	AbsBound     float64        `json:"abs_bound"`
	Fill         *float64       `json:"fill,omitempty"`
	RawBytes     int64          `json:"raw_bytes"`
	StoredBytes  int64          `json:"stored_bytes"`
	Ratio        float64        `json:"ratio"`
	ChunksTotal  int            `json:"chunks_total"`
	ChunksStored int            `json:"chunks_stored"`
	ChunkCodecs  map[string]int `json:"chunk_codecs"`
	ChunkList    []ChunkStat    `json:"chunk_list"`
}

// Report returns s in the flat form of StatReport.
func (s *ArrayStat) Report() StatReport {
	a := s.Info
	return StatReport{
		Name: a.Name, DType: a.DType, Shape: a.Shape, Chunks: a.Chunks, Codec: a.Codec,
		Mode: a.Mode, Bound: a.Bound, AbsBound: a.AbsBound, Fill: a.Fill,
		RawBytes: s.RawBytes, StoredBytes: s.StoredBytes, Ratio: s.Ratio,
		ChunksTotal: s.ChunksTotal, ChunksStored: s.ChunksStored, ChunkCodecs: s.Codecs,
		ChunkList: s.Chunks,
	}
}
