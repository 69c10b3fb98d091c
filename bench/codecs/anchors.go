package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// anchorPackages are the Python packages anchors.py needs.
var anchorPackages = []string{"numpy", "hdf5plugin", "h5py", "zfpy"}

// anchorJob is the job file anchors.py reads.
type anchorJob struct {
	Reps   int           `json:"reps"`
	Fields []anchorField `json:"fields"`
}

type anchorField struct {
	Name   string        `json:"name"`
	Path   string        `json:"path"`
	DType  string        `json:"dtype"`
	Shape  []int         `json:"shape"`
	Chunk  []int         `json:"chunk"`
	Fill   *float64      `json:"fill"`
	Bounds []anchorBound `json:"bounds"`
}

type anchorBound struct {
	Rel float64 `json:"rel"`
	Abs float64 `json:"abs"`
}

// anchorResult is what anchors.py writes.
type anchorResult struct {
	Rows   []Row    `json:"rows"`
	Errors []string `json:"errors"`
}

// anchorEnv is the Python environment of the anchor run.
type anchorEnv struct {
	python string
	// versions lists "name==version" for anchorPackages, from pip freeze.
	versions []string
	// problems lists what could not be installed or run.
	problems []string
}

// setupAnchors creates the virtual environment venv (when missing) and
// installs anchorPackages into it one by one, so that one failing package
// does not keep the others out. Failures are recorded in the result, not
// returned: the Go benchmark runs without the anchors.
func setupAnchors(venv string, log func(string, ...any)) *anchorEnv {
	env := &anchorEnv{python: filepath.Join(venv, "bin", "python")}
	if _, err := os.Stat(env.python); err != nil {
		log("creating the Python virtual environment %s", venv)
		if out, err := exec.Command("python3", "-m", "venv", venv).CombinedOutput(); err != nil {
			env.problems = append(env.problems, fmt.Sprintf("python3 -m venv %s failed: %v: %s", venv, err, lastLine(out)))
			env.python = ""
			return env
		}
	}
	for _, pkg := range anchorPackages {
		out, err := exec.Command(env.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", pkg).CombinedOutput()
		if err != nil {
			env.problems = append(env.problems, fmt.Sprintf("pip install %s failed: %v: %s", pkg, err, lastLine(out)))
		}
	}
	out, err := exec.Command(env.python, "-m", "pip", "freeze", "--disable-pip-version-check").Output()
	if err != nil {
		env.problems = append(env.problems, fmt.Sprintf("pip freeze failed: %v", err))
		return env
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.ToLower(line), "==")
		for _, pkg := range anchorPackages {
			if name == pkg {
				env.versions = append(env.versions, strings.TrimSpace(line))
			}
		}
	}
	return env
}

// runAnchors writes the job, runs anchors.py on one thread and returns its
// rows.
func runAnchors(env *anchorEnv, script string, job anchorJob, tmp string) (anchorResult, error) {
	var res anchorResult
	if env.python == "" {
		return res, fmt.Errorf("no Python environment")
	}
	jobPath := filepath.Join(tmp, "anchor_job.json")
	outPath := filepath.Join(tmp, "anchor_out.json")
	data, err := json.Marshal(job)
	if err != nil {
		return res, err
	}
	if err := os.WriteFile(jobPath, data, 0o644); err != nil {
		return res, err
	}
	cmd := exec.Command(env.python, script, jobPath, outPath)
	// One thread for every library that could start more.
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("%s failed: %v: %s", script, err, lastLine(stderr.Bytes()))
	}
	data, err = os.ReadFile(outPath)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return res, fmt.Errorf("parse %s: %w", outPath, err)
	}
	for i := range res.Rows {
		res.Rows[i].Family = family(res.Rows[i].Field)
	}
	return res, nil
}

// lastLine returns the last non-empty line of out, which for pip and Python
// is usually the error.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
