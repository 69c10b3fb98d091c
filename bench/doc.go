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
//
// bench/gpu measures the block kernels of gpuaccel on an NVIDIA GPU, on a
// real field tiled to 1 GiB, and checks every payload against the CPU
// codec. bench/gpu-check.sh builds it and the gpuaccel device tests as
// static binaries, with the data set, into a folder to carry to a GPU
// machine:
//
//	bench/gpu-check.sh ../shared/data      # then run the printed run.sh there
package bench
