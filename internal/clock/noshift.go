//go:build !clockshift

package clock

// shift is zero: only a clockshift build (tests) can move the clock.
const shift = 0

// Tags is the build tag of this build ("" in a normal one), for tests that build the binary.
const Tags = ""
