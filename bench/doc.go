// Package bench holds the benchmark commands of epsilon, which run on the
// real data set and are not part of CI.
//
// bench/codecs runs every registered lossy codec on the real fields next to
// SZ3 and ZFP (bench/anchors/anchors.py, run in the virtual environment
// bench/.venv that the command creates) and writes bench/RESULTS.md and
// bench/rate_distortion.png:
//
//	go run ./bench/codecs           # full run, a few minutes
//	go run ./bench/codecs -quick    # two fields, one bound
package bench
