// Package healthtest checks the findings that probes return, for the tests of the packages
// that probe.
package healthtest

import (
	"strings"
	"testing"

	"github.com/celbridge/celbridge/health"
)

// Want fails unless f has outcome o and its line, as check prints it, contains every part.
func Want(t testing.TB, f health.Finding, o health.Outcome, parts ...string) {
	t.Helper()
	line := f.String()
	if f.Outcome != o {
		t.Errorf("outcome %s, want %s: %s", f.Outcome, o, line)
	}
	for _, p := range parts {
		if !strings.Contains(line, p) {
			t.Errorf("finding lacks %q: %s", p, line)
		}
	}
}
