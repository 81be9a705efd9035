package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// buildInfo describes this binary: version, commit, build date and Go version. Values set
// with -ldflags win; otherwise the VCS stamp Go records at build time is used.
func buildInfo() string {
	rev, when, modified := commit, date, false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && rev == "":
				rev = s.Value
			case s.Key == "vcs.time" && when == "":
				when = s.Value
			case s.Key == "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		rev = "unknown"
	}
	if modified {
		rev += "-dirty"
	}
	if when == "" {
		when = "unknown"
	}
	return fmt.Sprintf("%s (commit %s, built %s, %s %s/%s)", version, rev, when, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
