//go:build clockshift

package clock

import (
	"fmt"
	"os"
	"time"
)

// Env is the variable a clockshift build reads its shift from.
const Env = "CELBRIDGE_CLOCK_SHIFT"

// Tags is the build tag of this build, for tests that build the binary.
const Tags = "clockshift"

var shift = parseShift(os.Getenv(Env))

func parseShift(s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v (write a Go duration such as 9600h)", Env, s, err))
	}
	return d
}
