package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandHelp: every command's -h starts with its usage line, as the top-level usage
// shows it, and says what the command does; --version is version.
func TestCommandHelp(t *testing.T) {
	for _, name := range []string{"run", "once", "backfill", "explain", "check", "status", "retry", "demo", "version"} {
		t.Run(name, func(t *testing.T) {
			h, ok := commandHelp[name]
			if !ok {
				t.Fatalf("no commandHelp entry for %s", name)
			}
			line := strings.TrimSpace("celbridge " + name + " " + h.args)
			if !strings.Contains(usage, "  "+line+" ") && !strings.Contains(usage, "  "+line+"\n") {
				t.Errorf("the top-level usage has no line %q:\n%s", line, usage)
			}
			var stdout, stderr bytes.Buffer
			if code := Main(t.Context(), []string{name, "-h"}, &stdout, &stderr); code != exitOK {
				t.Errorf("%s -h: exit %d, want 0", name, code)
			}
			if got := stderr.String(); !strings.HasPrefix(got, "Usage: "+line+"\n\n") || len(got) < len(line)+40 {
				t.Errorf("%s -h printed:\n%s\nwant it to start with %q and say what the command does", name, got, "Usage: "+line)
			}
		})
	}
	for _, arg := range []string{"--version", "-version"} {
		var stdout, stderr bytes.Buffer
		if code := Main(t.Context(), []string{arg}, &stdout, &stderr); code != exitOK || !strings.HasPrefix(stdout.String(), "celbridge ") {
			t.Errorf("celbridge %s: exit %d, stdout %q, stderr %q", arg, code, stdout.String(), stderr.String())
		}
	}
}
