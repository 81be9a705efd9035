//go:build !clockshift

package clock

// Tags is the build tag of this build ("" in a normal one), for tests that build the binary.
const Tags = ""
