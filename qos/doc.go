// Package qos measures and will control the quality of lossy storage.
//
// Today it holds the error statistics that tests, benchmarks and the demo
// use to check decoded values against their originals (ErrorStats). The
// learned surrogate that turns quality targets such as a PSNR into
// per-chunk error bounds will live here too, as a bound policy that the
// store consults; the store never imports this package.
package qos
