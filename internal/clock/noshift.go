//go:build !clockshift

package clock

// shift is zero: only a clockshift build (tests) can move the clock.
const shift = 0
