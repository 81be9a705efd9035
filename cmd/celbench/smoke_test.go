package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/testdb"
)

// TestSmoke runs the backfill phases of the benchmark on a few thousand rows: the generated
// calls' expected requests must equal what backfill -dry-run prints and what the CRM stub
// gets (celbench fails otherwise). The long runs are scripts/bench.sh's.
func TestSmoke(t *testing.T) {
	dsn := os.Getenv(testdb.EnvDSN)
	if dsn == "" {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal(testdb.EnvDSN + " is unset (CI is set, so no test may skip)")
		}
		t.Skip(testdb.EnvDSN + " is unset: run scripts/test-mariadb.sh")
	}
	root := testdb.ModuleRoot(t)
	bin := filepath.Join(t.TempDir(), "celbridge")
	build := exec.Command("go", "build", "-o", bin, "-tags", clock.Tags, "./cmd/celbridge")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build celbridge: %v\n%s", err, out)
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	var out, log bytes.Buffer
	err := run(t.Context(), []string{"-dsn", dsn, "-celbridge", bin, "-work", t.TempDir(),
		"-rows", "3000", "-rounds", "1",
		"-phases", "load,raw,send", "-prefix", "cbs_" + hex.EncodeToString(suffix), "-drop"}, &out, &log)
	if err != nil {
		t.Fatalf("celbench: %v\n%s", err, log.String())
	}
	for _, want := range []string{"Issue 13 targets", "(a) `mariadb --quick`", "(b) `backfill -dry-run`", "(c) `backfill` → CRM stub"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
