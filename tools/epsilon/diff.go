package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/epsilon-db/epsilon/chunk"
	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/npy"
	"github.com/epsilon-db/epsilon/qos"
)

func init() { register(newDiffCommand) }

type diffOptions struct {
	db, name, original, dtype, shape, slice, plotPath string
	jsonOut                                           bool
}

// diffReport is the output of diff.
type diffReport struct {
	Array string         `json:"array"`
	Stats qos.ErrorStats `json:"stats"`
	// SSIM is computed over the plotted 2-D slice.
	SSIM  float64 `json:"ssim"`
	Slice string  `json:"slice"`
	// Histogram counts |x-x'|/bound in ten bins of [0, 1] and, last, the
	// values above the bound.
	Histogram []int `json:"histogram"`
}

func newDiffCommand() *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff --db DIR --name NAME --original FILE [--slice AXIS=INDEX] [--plot OUT.png]",
		Short: "Compare an array with its original file: error statistics and a picture of one slice",
		Long: `Diff decodes array NAME and compares it with FILE (an .npy file, or raw
values with --dtype and --shape): maximum error, RMSE, PSNR, SSIM of one
2-D slice and a histogram of errors relative to the bound. --plot writes a
PNG with the original slice, the decoded slice and the error side by side.
For arrays of more than two dimensions --slice picks the slice (default:
the middle index of axis 0, then index 0 of the next axes until two remain).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDiff(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "store folder")
	f.StringVar(&o.name, "name", "", "array name")
	f.StringVar(&o.original, "original", "", "original values: an .npy file or raw little-endian values")
	f.StringVar(&o.dtype, "dtype", "", "element type of a raw original (default: the array's)")
	f.StringVar(&o.shape, "shape", "", "shape of a raw original (default: the array's)")
	f.StringVar(&o.slice, "slice", "", "slice to plot and measure SSIM on, AXIS=INDEX, e.g. 0=5")
	f.StringVar(&o.plotPath, "plot", "", "write a PNG of the slice to this file")
	f.BoolVar(&o.jsonOut, "json", false, "print JSON")
	for _, n := range []string{"db", "name", "original"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func runDiff(cmd *cobra.Command, o *diffOptions) error {
	db, err := openExisting(o.db, true)
	if err != nil {
		return err
	}
	defer db.Close()
	info, err := db.Info(o.name)
	if err != nil {
		return err
	}
	if !info.DType.IsFloat() {
		return fmt.Errorf("array %q has integer dtype %s, stored losslessly: nothing to compare", o.name, info.DType)
	}
	orig, err := readOriginal(o, info.DType, info.Shape)
	if err != nil {
		return err
	}
	// NOTE: diff holds the whole array twice in memory, as float64.
	raw := make([]byte, chunk.Shape(info.Shape).Count()*info.DType.Size())
	if err := db.Read(o.name, chunk.Full(info.Shape), raw); err != nil {
		return err
	}
	dec := toFloat64(raw, info.DType)

	pointwise := info.Mode == codecs.ModePWRel
	stats := qos.Compare(orig, dec, info.AbsBound, info.Fill)
	histogram := qos.ErrorHistogram(orig, dec, info.AbsBound, 10, info.Fill)
	if pointwise {
		stats = qos.ComparePointwise(orig, dec, info.Bound, info.Fill)
		histogram = qos.ErrorHistogramPointwise(orig, dec, info.Bound, 10, info.Fill)
	}
	rows, cols, index, label, err := sliceOf(info.Shape, o.slice)
	if err != nil {
		return err
	}
	so, sd := gather(orig, index), gather(dec, index)
	ssim, err := qos.SSIM2D(so, sd, []int{rows, cols}, stats.ValueRange, info.Fill)
	if err != nil {
		ssim = math.NaN() // the slice is smaller than one SSIM window
	}
	rep := diffReport{
		Array: o.name, Stats: stats, Slice: label,
		SSIM:      ssim,
		Histogram: histogram,
	}
	if o.plotPath != "" {
		if err := plotSlices(o.plotPath, fmt.Sprintf("%s %s", o.name, label), so, sd, rows, cols, info.AbsBound); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	if o.jsonOut {
		return writeJSON(out, rep)
	}
	if pointwise {
		fmt.Fprintf(out, "array      %s (%s: |x-x'| <= %g |x|)\n", o.name, info.ErrorBound(), info.Bound)
	} else {
		fmt.Fprintf(out, "array      %s (%s, absolute bound %g)\n", o.name, info.ErrorBound(), info.AbsBound)
	}
	fmt.Fprintf(out, "values     %d compared, %d special values changed\n", stats.Count, stats.SpecialMismatches)
	if pointwise {
		fmt.Fprintf(out, "max error  %g, %d values above the bound\n", stats.MaxAbsError, stats.Violations)
	} else {
		fmt.Fprintf(out, "max error  %g (%.3g of the bound), %d values above the bound\n", stats.MaxAbsError, stats.MaxAbsError/info.AbsBound, stats.Violations)
	}
	fmt.Fprintf(out, "rmse       %g\npsnr       %.2f dB\n", stats.RMSE, stats.PSNR)
	fmt.Fprintf(out, "ssim       %.6f over slice %s\n", rep.SSIM, label)
	fmt.Fprintf(out, "|x-x'|/bound histogram:\n")
	for i, n := range rep.Histogram {
		lo, hi := float64(i)/10, float64(i+1)/10
		name := fmt.Sprintf("[%.1f, %.1f)", lo, hi)
		if i == len(rep.Histogram)-1 {
			name = "> 1 (violations)"
		}
		fmt.Fprintf(out, "  %-17s %d\n", name, n)
	}
	if o.plotPath != "" {
		fmt.Fprintf(out, "plot       %s\n", o.plotPath)
	}
	return nil
}

// readOriginal reads the original file of an array of dtype and shape.
func readOriginal(o *diffOptions, dtype codecs.DType, shape []int) ([]float64, error) {
	file, err := os.Open(o.original)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var offset int64
	if strings.HasSuffix(strings.ToLower(o.original), ".npy") {
		h, err := npy.ReadHeader(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.original, err)
		}
		dtype, offset = h.DType, h.DataOffset
		if !chunk.Shape(h.Shape).Equal(shape) {
			return nil, fmt.Errorf("%s has shape %v, the array has shape %v", o.original, h.Shape, shape)
		}
	} else {
		if o.dtype != "" {
			if dtype, err = codecs.ParseDType(o.dtype); err != nil {
				return nil, err
			}
		}
		if o.shape != "" {
			s, err := chunk.ParseShape(o.shape)
			if err != nil {
				return nil, err
			}
			if !chunk.Shape(s).Equal(shape) {
				return nil, fmt.Errorf("--shape %v differs from the array's shape %v", s, shape)
			}
		}
	}
	if !dtype.IsFloat() {
		return nil, fmt.Errorf("%s contains %s values: diff compares f32 or f64 values", o.original, dtype)
	}
	raw := make([]byte, chunk.Shape(shape).Count()*dtype.Size())
	if _, err := file.ReadAt(raw, offset); err != nil {
		return nil, fmt.Errorf("%s: read %d bytes of %s values at byte %d: %w", o.original, len(raw), dtype, offset, err)
	}
	return toFloat64(raw, dtype), nil
}

func toFloat64(raw []byte, dtype codecs.DType) []float64 {
	out := make([]float64, len(raw)/dtype.Size())
	for i := range out {
		if dtype == codecs.Float32 {
			b := uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24
			out[i] = float64(math.Float32frombits(b))
			continue
		}
		var b uint64
		for k := 7; k >= 0; k-- {
			b = b<<8 | uint64(raw[8*i+k])
		}
		out[i] = math.Float64frombits(b)
	}
	return out
}

// sliceOf returns the size and the flat indexes of the 2-D slice that spec
// ("AXIS=INDEX", or "") selects in an array of shape, and its label.
func sliceOf(shape []int, spec string) (rows, cols int, index []int, label string, err error) {
	fixed := map[int]int{}
	if len(shape) < 2 {
		return 0, 0, nil, "", fmt.Errorf("array of %d dimension: diff plots 2-D slices of arrays with 2 or more dimensions", len(shape))
	}
	if spec != "" {
		a, i, ok := strings.Cut(spec, "=")
		axis, err1 := strconv.Atoi(a)
		idx, err2 := strconv.Atoi(i)
		if !ok || err1 != nil || err2 != nil || axis < 0 || axis >= len(shape) || idx < 0 || idx >= shape[axis] {
			return 0, 0, nil, "", fmt.Errorf("invalid --slice %q: expected AXIS=INDEX with AXIS in [0, %d) and INDEX inside that axis of shape %v", spec, len(shape), shape)
		}
		fixed[axis] = idx
	} else if len(shape) > 2 {
		fixed[0] = shape[0] / 2
	}
	for a := 0; len(shape)-len(fixed) > 2; a++ {
		if _, ok := fixed[a]; !ok {
			fixed[a] = 0
		}
	}
	start, stop := make([]int, len(shape)), make([]int, len(shape))
	var free []int
	parts := make([]string, len(shape))
	for a, n := range shape {
		if i, ok := fixed[a]; ok {
			start[a], stop[a] = i, i+1
			parts[a] = strconv.Itoa(i)
		} else {
			start[a], stop[a] = 0, n
			free = append(free, a)
			parts[a] = ":"
		}
	}
	if len(free) != 2 {
		return 0, 0, nil, "", fmt.Errorf("--slice %q on shape %v leaves %d free axes, the plot needs 2", spec, shape, len(free))
	}
	_ = chunk.Runs(shape, start, regionShape(start, stop), func(off, n int) error {
		for k := range n {
			index = append(index, off+k)
		}
		return nil
	})
	return shape[free[0]], shape[free[1]], index, "[" + strings.Join(parts, ",") + "]", nil
}

func regionShape(start, stop []int) []int {
	s := make([]int, len(start))
	for i := range s {
		s[i] = stop[i] - start[i]
	}
	return s
}

func gather(v []float64, index []int) []float64 {
	out := make([]float64, len(index))
	for i, k := range index {
		out[i] = v[k]
	}
	return out
}

// grid adapts a row-major slice to plotter.GridXYZ; y is the row index.
type grid struct {
	v          []float64
	rows, cols int
}

func (g grid) Dims() (c, r int)   { return g.cols, g.rows }
func (g grid) Z(c, r int) float64 { return g.v[(g.rows-1-r)*g.cols+c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(g.rows - 1 - r) }

// plotSlices writes a PNG with three heat maps (original, decoded, error)
// and a colour bar under each.
func plotSlices(path, title string, orig, dec []float64, rows, cols int, bound float64) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	errs := make([]float64, len(orig))
	maxErr := 0.0
	for i, x := range orig {
		if x-x == 0 {
			lo, hi = min(lo, x), max(hi, x)
		}
		errs[i] = dec[i] - x
		if d := math.Abs(errs[i]); d > maxErr {
			maxErr = d
		}
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	if hi == lo {
		hi = lo + 1
	}
	errScale := max(maxErr, bound)
	if errScale == 0 {
		errScale = 1
	}
	fieldMap := moreland.ExtendedBlackBody()
	fieldMap.SetMin(lo - bound)
	fieldMap.SetMax(hi + bound)
	errMap := moreland.SmoothBlueRed()
	errMap.SetMin(-errScale)
	errMap.SetMax(errScale)

	const panelW, heatH, barH = 5 * vg.Inch, 4 * vg.Inch, 1.1 * vg.Inch
	img := vgimg.New(3*panelW, heatH+barH+0.4*vg.Inch)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	titleStyle := draw.TextStyle{Color: color.Black, Font: plot.DefaultFont, XAlign: draw.XCenter, YAlign: draw.YTop}
	titleStyle.Font.Size = 14
	titleStyle.Handler = plot.DefaultTextHandler
	dc.FillText(titleStyle, vg.Point{X: 1.5 * panelW, Y: dc.Max.Y - 0.05*vg.Inch}, title)

	type panel struct {
		name  string
		v     []float64
		heat  *plotter.HeatMap
		bar   *plotter.ColorBar
		label string
	}
	mk := func(name string, v []float64, cm palette.ColorMap, label string) panel {
		h := plotter.NewHeatMap(grid{v: v, rows: rows, cols: cols}, cm.Palette(255))
		h.Min, h.Max = cm.Min(), cm.Max()
		h.Rasterized = true
		h.NaN = color.RGBA{R: 200, G: 200, B: 200, A: 255}
		return panel{name: name, v: v, heat: h, bar: &plotter.ColorBar{ColorMap: cm}, label: label}
	}
	ps := []panel{
		mk("original", orig, fieldMap, "value"),
		mk("decoded", dec, fieldMap, "value"),
		mk(fmt.Sprintf("error x'-x (bound %g)", bound), errs, errMap, "x' - x"),
	}
	for i, p := range ps {
		x0 := vg.Length(i) * panelW
		hp := plot.New()
		hp.Title.Text = p.name
		hp.X.Label.Text = "column"
		hp.Y.Label.Text = "row"
		hp.Add(p.heat)
		hp.Draw(draw.Crop(dc, x0, x0+panelW-dc.Max.X, barH, -0.4*vg.Inch))
		bp := plot.New()
		bp.HideY()
		bp.X.Label.Text = p.label
		bp.Add(p.bar)
		bp.Draw(draw.Crop(dc, x0+0.3*vg.Inch, x0+panelW-dc.Max.X-0.3*vg.Inch, 0, barH-dc.Max.Y))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
