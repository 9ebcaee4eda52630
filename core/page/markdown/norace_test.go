//go:build !race

package markdown

// slowdown is how much slower the race detector makes the renderer: none
// here, without it.
const slowdown = 1
