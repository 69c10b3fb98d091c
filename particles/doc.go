// Package particles will store particle snapshots (positions, velocities,
// ids and attributes) with an error bound, and restore on read the exact
// friends-of-friends clusters of the original positions.
package particles
