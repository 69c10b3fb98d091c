package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Row is the result of one codec on one field at one bound.
type Row struct {
	Field  string `json:"field"`
	Family string `json:"-"`
	Codec  string `json:"codec"`
	// Rel is the bound relative to the field's value range, Abs the
	// absolute bound every codec received.
	Rel float64 `json:"rel"`
	Abs float64 `json:"abs"`

	RawBytes        int64 `json:"raw_bytes"`
	CompressedBytes int64 `json:"compressed_bytes"`
	Values          int64 `json:"values"`
	// PSNR is nil in JSON when the field came back exactly (+Inf).
	PSNR       *float64 `json:"psnr"`
	MaxError   float64  `json:"max_error"`
	Violations int      `json:"violations"`
	// CompressS and DecompressS are the median wall times in seconds of
	// one pass over the whole field.
	CompressS   float64 `json:"compress_s"`
	DecompressS float64 `json:"decompress_s"`
}

// Ratio returns the raw size over the compressed size.
func (r Row) Ratio() float64 { return float64(r.RawBytes) / float64(r.CompressedBytes) }

// BitsPerValue returns the compressed bits per value.
func (r Row) BitsPerValue() float64 { return 8 * float64(r.CompressedBytes) / float64(r.Values) }

// ErrorRatio returns the max absolute error over the absolute bound.
func (r Row) ErrorRatio() float64 { return r.MaxError / r.Abs }

// CompressMBps returns the compression speed in MB/s (10^6 bytes) of raw
// values.
func (r Row) CompressMBps() float64 { return float64(r.RawBytes) / 1e6 / r.CompressS }

// DecompressMBps returns the decompression speed in MB/s of raw values.
func (r Row) DecompressMBps() float64 { return float64(r.RawBytes) / 1e6 / r.DecompressS }

// psnrValue returns the PSNR in dB, +Inf for an exact result.
func (r Row) psnrValue() float64 {
	if r.PSNR == nil {
		return math.Inf(1)
	}
	return *r.PSNR
}

// family returns the field family that the plot draws one line per codec
// for, from the field name's prefix.
func family(field string) string {
	switch {
	case hasAnyPrefix(field, "cesm_", "ccsm_", "pop_", "ncar_", "foam_"):
		return "climate"
	case hasAnyPrefix(field, "vapor_", "sperr_"):
		return "turbulence"
	case hasAnyPrefix(field, "nyx_"):
		return "cosmology"
	default:
		return "other"
	}
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// geoMean returns the geometric mean of the positive finite values of xs,
// and NaN when there is none.
func geoMean(xs []float64) float64 {
	sum, n := 0.0, 0
	for _, x := range xs {
		if x > 0 && !math.IsInf(x, 0) {
			sum += math.Log(x)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Exp(sum / float64(n))
}

// Summary aggregates the rows of one codec at one relative bound.
type Summary struct {
	Codec  string
	Rel    float64
	Fields int
	// Ratio, CompressMBps and DecompressMBps are geometric means over
	// fields; PSNR is the arithmetic mean of the finite PSNRs in dB.
	Ratio, PSNR                  float64
	MaxErrorRatio                float64
	Violations, FieldsViolating  int
	CompressMBps, DecompressMBps float64
}

// summarize groups rows by bound and codec, in the order of rels and then
// codecs, and returns one Summary per group that has rows.
func summarize(rows []Row, rels []float64, codecs []string) []Summary {
	var out []Summary
	for _, rel := range rels {
		for _, c := range codecs {
			var ratios, cs, ds, psnrs []float64
			s := Summary{Codec: c, Rel: rel}
			for _, r := range rows {
				if r.Codec != c || r.Rel != rel {
					continue
				}
				s.Fields++
				ratios = append(ratios, r.Ratio())
				cs = append(cs, r.CompressMBps())
				ds = append(ds, r.DecompressMBps())
				if p := r.psnrValue(); !math.IsInf(p, 0) {
					psnrs = append(psnrs, p)
				}
				s.MaxErrorRatio = max(s.MaxErrorRatio, r.ErrorRatio())
				s.Violations += r.Violations
				if r.Violations > 0 {
					s.FieldsViolating++
				}
			}
			if s.Fields == 0 {
				continue
			}
			s.Ratio, s.CompressMBps, s.DecompressMBps = geoMean(ratios), geoMean(cs), geoMean(ds)
			s.PSNR = math.NaN()
			if len(psnrs) > 0 {
				total := 0.0
				for _, p := range psnrs {
					total += p
				}
				s.PSNR = total / float64(len(psnrs))
			}
			out = append(out, s)
		}
	}
	return out
}

// writeSummaryTable writes the summaries as a Markdown table.
func writeSummaryTable(w io.Writer, sums []Summary) {
	fmt.Fprintln(w, "| bound (rel) | codec | fields | ratio | mean PSNR dB | max err / bound | violations (fields) | compress MB/s | decompress MB/s |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range sums {
		fmt.Fprintf(w, "| %g | %s | %d | %.2f | %.1f | %.3f | %d (%d) | %.0f | %.0f |\n",
			s.Rel, s.Codec, s.Fields, s.Ratio, s.PSNR, s.MaxErrorRatio, s.Violations, s.FieldsViolating, s.CompressMBps, s.DecompressMBps)
	}
}

// writeRowTable writes every row as a Markdown table, sorted by field,
// bound (loosest first) and codec.
func writeRowTable(w io.Writer, rows []Row) {
	sorted := append([]Row(nil), rows...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		if a.Rel != b.Rel {
			return a.Rel > b.Rel
		}
		return a.Codec < b.Codec
	})
	fmt.Fprintln(w, "| field | bound (rel) | codec | ratio | bits/value | PSNR dB | max err / bound | violations | compress MB/s | decompress MB/s |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range sorted {
		fmt.Fprintf(w, "| %s | %g | %s | %.2f | %.3f | %.1f | %.3f | %d | %.0f | %.0f |\n",
			r.Field, r.Rel, r.Codec, r.Ratio(), r.BitsPerValue(), r.psnrValue(), r.ErrorRatio(), r.Violations, r.CompressMBps(), r.DecompressMBps())
	}
}
