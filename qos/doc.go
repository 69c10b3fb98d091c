// Package qos turns quality targets into per-chunk error bounds, and
// measures the quality of lossy storage.
//
// A Target (psnr, ssim, nrmse, maxerr or ratio) applies to a whole array.
// Import reads the input once to compute cheap per-chunk Features from a
// sample (value range and spread, Lorenzo and interpolation residuals,
// constant share, smoothness, and for SSIM targets the variances of SSIM
// windows), has a Model predict the
// squared error, SSIM deficit and stream size of each chunk over
// a grid of bounds, and allocates bounds by a Lagrangian so that the total
// error meets the target while the total size is smallest (or, for a
// ratio target, the total error is smallest within the size budget). Plans
// shrink the budget by a quantile of the model's residuals on held-out
// field families, stored with the model: the 97th percentile in Fast mode
// (the 95th for SSIM), the 70th in Verify mode, and for PSNR and NRMSE at
// least 10% of the squared error. The model is evaluated on a
// lattice of bounds 1/8 decade apart and interpolated between, so a plan
// costs a few evaluations per chunk. The bounds reach the store through store.BoundPolicy, so the store never
// imports this package. Verify mode then measures the stored array and
// re-encodes the chunks a correction changes; Fast mode trusts the model.
//
// A Model is, per codec name, a mixture of gradient-boosted tree experts
// with a Gaussian gate over the chunk's features (model.go documents the
// file format). Train builds one from real arrays by sweeping bounds over
// every registered lossy codec, so a new codec needs a retrain, not code.
// The default model is embedded (model/README.md has the command that
// rebuilds it); a store can carry its own in the reserved array
// "_qos/model" (SaveModel), which Import prefers.
//
// ErrorStats (Compare) and SSIM2D measure decoded values against their
// originals for tests, benchmarks and the verify step.
package qos
