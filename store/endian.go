//go:build !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package store

// epsilon stores values in the host's byte order and the on-disk format is
// little-endian, so a big-endian build must fail at compile time.
var _ = "epsilon requires a little-endian host" + 1
