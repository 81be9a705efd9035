package mapper

import (
	"flag"
	"fmt"
	"path/filepath"
	"testing"
)

var dumpRules = flag.String("dump-rules", "", "print the events and Rules of the golden cases matching this glob")

// TestDumpRules is a reviewing aid: go test ./mapper -run TestDumpRules -dump-rules 'w-*'.
func TestDumpRules(t *testing.T) {
	if *dumpRules == "" {
		return
	}
	dirs, _ := filepath.Glob(filepath.Join("testdata", *dumpRules))
	for _, dir := range dirs {
		cfg := loadCaseConfig(t, dir)
		evs := MapAll(cfg, loadRows(t, filepath.Join(dir, "input.json")))
		fmt.Println("==", dir)
		for _, e := range evs {
			fmt.Printf("  %-18s int=%-6q ext=%q did=%q bill=%d %s | %s\n", e.RequestType, e.InternalNumber, e.ExternalNumber, e.DIDNumber, e.Billsec, e.Disposition, e.Rule)
		}
	}
}
