#!/usr/bin/env bash
# Builds what the GPU checks need into one folder that can be carried to a
# machine with an NVIDIA GPU, and prints the command to run there.
#
#   bench/gpu-check.sh DATA_DIR [OUT_DIR]
#
# DATA_DIR is the real data set (the folder with manifest.json); it is copied
# into OUT_DIR/data. OUT_DIR defaults to ../epsilon-gpu-check next to the
# repository and must not be a tracked part of it. Both binaries are static
# (CGO_ENABLED=0, linux/amd64): they load libcuda.so.1 and NVRTC at run time,
# so the GPU machine needs the NVIDIA driver and NVRTC (the CUDA toolkit or
# the nvidia-cuda-nvrtc wheel, with its lib folder on LD_LIBRARY_PATH) but no
# Go and no compiler.
#
# On the GPU machine, OUT_DIR/run.sh runs:
#   1. the device tests of gpuaccel on every real field (EPSILON_REQUIRE_GPU=1
#      turns a missing device into a failure instead of a skip);
#   2. bench/gpu: encode and decode throughput of the kernels alone and with
#      host transfers on a real field tiled to 1 GiB, checked byte for byte
#      against the CPU codec.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
	echo "usage: $0 DATA_DIR [OUT_DIR]" >&2
	exit 2
fi
data=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$repo/../epsilon-gpu-check}
if [[ ! -f $data/manifest.json ]]; then
	echo "$0: $data has no manifest.json; pass the real data folder" >&2
	exit 2
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$repo"
export CGO_ENABLED=0 GOOS=linux GOARCH=amd64
go test -c -o "$out/gpuaccel.test" ./gpuaccel
go build -o "$out/gpubench" ./bench/gpu
rm -rf "$out/data"
cp -r "$data" "$out/data"

cat >"$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the GPU checks of epsilon; made by bench/gpu-check.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export EPSILON_DATA=$here/data EPSILON_REQUIRE_GPU=1
cd "$here"
echo "== device tests on every real field"
./gpuaccel.test -test.run 'Device|Probe' -test.v -test.count=1 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok)|device:|GPU' | grep -v '=== RUN'
echo "== kernel throughput, real field tiled to 1 GiB"
./gpubench -data "$here/data" -gib 1 "$@"
./gpubench -data "$here/data" -gib 1 -field sperr_pressure "$@"
RUN
chmod +x "$out/run.sh"

echo "built $out ($(du -sh "$out" | cut -f1)); on the GPU machine run:"
echo "  $out/run.sh          # add -json for JSON lines from the benchmark"
