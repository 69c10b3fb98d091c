// Command codecs benchmarks every registered lossy codec of epsilon on the
// real fields, side by side with SZ3 and ZFP, and writes RESULTS.md and a
// rate-distortion plot.
//
//	go run ./bench/codecs                 # full run, writes bench/RESULTS.md
//	go run ./bench/codecs -quick          # two fields, one bound, one repetition
//	go run ./bench/codecs -data DIR       # data folder (default: $EPSILON_DATA or ../shared/data)
//
// Every codec runs on one goroutine with GOMAXPROCS 1. Fields are cut into
// chunks of about 1 MiB with chunk.DefaultChunkShape, as the store cuts
// them, and each chunk is a full stream with header and checksum. SZ3 and
// ZFP run through bench/anchors/anchors.py in the virtual environment
// bench/.venv, which the command creates and fills with pip.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/epsilon-db/epsilon/codecs"
	"github.com/epsilon-db/epsilon/internal/realdata"
)

type options struct {
	data       string
	out        string
	quick      bool
	reps       int
	anchors    bool
	rels       []float64
	onlyCodecs string
}

func main() {
	var o options
	flag.StringVar(&o.data, "data", "", "data folder with manifest.json (default: $EPSILON_DATA, else the first shared/data above the working directory)")
	flag.StringVar(&o.out, "out", "", "folder for RESULTS.md and rate_distortion.png (default: bench, or a temporary folder with -quick)")
	flag.BoolVar(&o.quick, "quick", false, "run two small fields at one bound with one repetition")
	flag.IntVar(&o.reps, "reps", 5, "timed repetitions per measurement; the median is reported")
	flag.BoolVar(&o.anchors, "anchors", true, "run SZ3 and ZFP through bench/anchors/anchors.py")
	flag.StringVar(&o.onlyCodecs, "codecs", "", "comma-separated epsilon codecs to run (default: every registered lossy codec)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/codecs:", err)
		os.Exit(1)
	}
}

// logf reports progress on standard error.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func run(o options) error {
	runtime.GOMAXPROCS(1)
	loadStart := loadAverage()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	o.rels = []float64{1e-2, 1e-3, 1e-4, 1e-5}
	if o.quick {
		o.rels = []float64{1e-3}
		o.reps = 1
	}
	if o.reps < 1 {
		return fmt.Errorf("invalid -reps %d: must be at least 1", o.reps)
	}
	if o.out == "" {
		o.out = filepath.Join(root, "bench")
		if o.quick {
			if o.out, err = os.MkdirTemp("", "epsilon-bench-quick-"); err != nil {
				return err
			}
		}
	}
	if o.data == "" {
		if o.data, err = realdata.Dir(); err != nil {
			return err
		}
	}
	m, err := realdata.Load(o.data)
	if err != nil {
		return err
	}
	files := m.Fields()
	if o.quick {
		files = quickFields(files)
	}
	names, err := lossyCodecs(o.onlyCodecs)
	if err != nil {
		return err
	}

	var rows []Row
	var fields []*field
	for _, f := range files {
		fd, err := loadField(m, f)
		if err != nil {
			return err
		}
		fields = append(fields, fd)
		for _, name := range names {
			c, err := codecs.ByName(name)
			if err != nil {
				return err
			}
			for _, rel := range o.rels {
				row, err := measureGo(fd, c, rel, o.reps)
				if err != nil {
					return err
				}
				logf("%-45s %-8s rel=%-6g ratio %7.2f  %6.0f / %6.0f MB/s", row.Field, row.Codec, rel, row.Ratio(), row.CompressMBps(), row.DecompressMBps())
				rows = append(rows, row)
			}
		}
	}

	env := &anchorEnv{}
	var anchorNotes []string
	if o.anchors {
		env = setupAnchors(filepath.Join(root, "bench", ".venv"), logf)
		anchorNotes = append(anchorNotes, env.problems...)
		res, err := runAnchors(env, filepath.Join(root, "bench", "anchors", "anchors.py"), anchorJobFor(fields, o), o.out)
		if err != nil {
			anchorNotes = append(anchorNotes, err.Error())
		} else {
			anchorNotes = append(anchorNotes, res.Errors...)
			rows = append(rows, res.Rows...)
			for _, name := range []string{"SZ3", "ZFP"} {
				if slices.ContainsFunc(res.Rows, func(r Row) bool { return r.Codec == name }) {
					names = append(names, name)
				}
			}
		}
		os.Remove(filepath.Join(o.out, "anchor_job.json"))
		os.Remove(filepath.Join(o.out, "anchor_out.json"))
	} else {
		anchorNotes = append(anchorNotes, "SZ3 and ZFP were not run (-anchors=false).")
	}

	rep := report{
		rows:        rows,
		rels:        o.rels,
		codecs:      names,
		env:         env,
		anchorNotes: anchorNotes,
		reps:        o.reps,
		quick:       o.quick,
		data:        o.data,
		loadStart:   loadStart,
	}
	if err := rep.writeFiles(o.out); err != nil {
		return err
	}
	logf("wrote %s and %s", filepath.Join(o.out, "RESULTS.md"), filepath.Join(o.out, "rate_distortion.png"))
	return nil
}

// quickFields returns two small fields, one float32 and one float64 when
// the data set has both.
func quickFields(files []realdata.File) []realdata.File {
	var out []realdata.File
	for _, want := range []string{"ncar_uvt_jan1988_T", "sperr_pressure_f64"} {
		for _, f := range files {
			if strings.Contains(f.Name(), want) {
				out = append(out, f)
				break
			}
		}
	}
	if len(out) == 0 && len(files) > 0 {
		out = files[:min(2, len(files))]
	}
	return out
}

// lossyCodecs returns the registered codecs that store values lossily: all
// but lossless. only, when set, selects some of them by name.
func lossyCodecs(only string) ([]string, error) {
	var names []string
	for _, n := range codecs.Names() {
		if n != codecs.Lossless.Name() {
			names = append(names, n)
		}
	}
	if only == "" {
		return names, nil
	}
	var picked []string
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(names, n) {
			return nil, fmt.Errorf("unknown lossy codec %q in -codecs: registered lossy codecs are %v", n, names)
		}
		picked = append(picked, n)
	}
	return picked, nil
}

// anchorJobFor lists the fields with their chunk shapes and absolute bounds
// for anchors.py.
func anchorJobFor(fields []*field, o options) anchorJob {
	job := anchorJob{Reps: o.reps}
	for _, fd := range fields {
		af := anchorField{
			Name:  fd.file.Name(),
			Path:  filepath.Join(o.data, fd.file.Path),
			DType: fd.file.DType,
			Shape: fd.shape,
			Chunk: fd.chunkShape,
		}
		if fd.hasFill {
			fill := fd.fill
			af.Fill = &fill
		}
		for _, rel := range o.rels {
			af.Bounds = append(af.Bounds, anchorBound{Rel: rel, Abs: rel * fd.valueRange})
		}
		job.Fields = append(job.Fields, af)
	}
	return job
}

// repoRoot returns the folder above the working directory that holds go.mod.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s: run the command inside the repository", wd)
		}
	}
}

// startTime is when the run began, for RESULTS.md.
var startTime = time.Now()
