//go:build race

package markdown

// slowdown is how much slower the race detector makes the renderer.
const slowdown = 10
