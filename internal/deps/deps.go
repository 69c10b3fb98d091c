//go:build tools

// Package deps pins modules that packages under construction import, so
// that `go mod tidy` keeps them in go.mod while work on those packages goes
// on in parallel. It is never built.
package deps

import (
	_ "github.com/apache/arrow-go/v18/arrow/flight"
	_ "github.com/ebitengine/purego"
	_ "github.com/schollz/progressbar/v3"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/plot"
)
