package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/mapper"
)

// TestFreePBXConfig_BothCaptures is issue 11's acceptance: with FreePBX's configuration tables
// (the sample clinic) and the grants of asterisk-config.md, a config file holding only the DSN,
// the CRM URL and the company id (and, here, the test database's name) gives every call of
// both shared captures the requests of the ring group and route the clinic set up in FreePBX:
// internalNumber=600 for ring group calls, the stripped number in every request of a call
// dialled with the route prefix 9. Without the grants the same run behaves as before.
func TestFreePBXConfig_BothCaptures(t *testing.T) {
	captures := map[string][]celbridge.CELRow{}
	for _, name := range []string{"freepbx-cel", "freepbx-cel-2"} {
		staging := testdb.New(t)
		staging.LoadSQL(t, filepath.Join("testdata", name, "cel.sql"))
		captures[name] = realRows(t, staging)
	}
	captures["prefix-9"] = goldenRows(t, "s08b-out-route-prefix")

	// What FreePBX's sample clinic says, written as celbridge.toml would (independent of the
	// freepbx package): ring group 600 = 801-803, route 2 strips 9 from 9|0XXXXXXXXX.
	withPBX := DefaultConfig().MapperConfig()
	withPBX.Groups = []mapper.Group{{Number: "600", Members: []string{"801", "802", "803"}}}
	op, _ := mapper.ParseOutboundPrefix("9|0XXXXXXXXX")
	withPBX.OutboundPrefixes = []mapper.OutboundPrefix{op}
	plain := DefaultConfig().MapperConfig()

	for _, granted := range []bool{true, false} {
		for name, rows := range captures {
			t.Run(fmt.Sprintf("%s/granted=%v", name, granted), func(t *testing.T) {
				db := testdb.New(t)
				schema := db.FreePBX(t, func(string) bool { return granted })
				b := newSiteOn(t, db, newCRM(t), opts{extra: fmt.Sprintf("[freepbx]\ndatabase = %q\n", schema)})
				if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
					t.Fatalf("first once: exit %d\n%s", code, stderr)
				}
				b.db.Insert(t, rows...)
				code, _, stderr := b.run(t, t.Context(), "once")
				if code != 0 {
					t.Fatalf("once: exit %d\n%s", code, stderr)
				}
				cfg := plain
				if granted {
					cfg = withPBX
				}
				want := map[string][]string{}
				for _, e := range mapper.MapAll(cfg, rows) {
					want[e.GeneralCallID] = append(want[e.GeneralCallID], celbridge.EncodeForm(e.Fields("3041")))
				}
				got := perCall(b.crm.received())
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("requests (-want +got):\n%s", d)
				}
				spot(t, name, granted, got)
				if name == "freepbx-cel-2" && granted { // explain says where 600 came from
					_, out, stderr := b.run(t, t.Context(), "explain", "179617729137")
					for _, want := range []string{"from FreePBX ring group 600 (Reception)", "802: Olena Kovalenko (FreePBX user)",
						`0443334000: DID of inbound route "Clinic main line"`} {
						if !strings.Contains(out, want) {
							t.Errorf("explain does not say %q:\n%s\n%s", want, out, stderr)
						}
					}
				}
				if !granted && !strings.Contains(stderr, "FreePBX configuration: no table readable") {
					t.Errorf("no warning about the unreadable configuration:\n%s", stderr)
				}
			})
		}
	}
}

// spot spells out what the clinic notices: the ring group and the dialled prefix.
func spot(t *testing.T, capture string, granted bool, got map[string][]string) {
	t.Helper()
	group, prefixed := "internalNumber=801", "externalNumber=90670219424"
	if granted {
		group, prefixed = "internalNumber=600", "externalNumber=0670219424"
	}
	switch capture {
	case "freepbx-cel-2":
		for _, id := range []string{"179617729137", "179617730841"} { // G1, G2: ring group 600
			if r := got[id]; len(r) == 0 || !strings.Contains(r[0], group) {
				t.Errorf("ring group call %s received as %q, want %s", id, r, group)
			}
		}
	case "prefix-9":
		for _, calls := range got {
			for _, r := range calls {
				if strings.Contains(r, "externalNumber=") && !strings.Contains(r, prefixed) && granted {
					t.Errorf("prefixed outgoing call: %q, want %s in every request", r, prefixed)
				}
			}
			if len(calls) == 0 || !strings.Contains(calls[0], prefixed) {
				t.Errorf("prefixed outgoing call received as %q, want %s", calls, prefixed)
			}
		}
	}
}

// TestCheck_FreePBX: check shows each configuration table as readable or not, with the GRANT
// line for a missing one, and warns when the user can read a table with passwords.
// TestDemoFreePBXIsTheSample: the demo's bundled FreePBX configuration is what freepbx.Read
// reads from the sample clinic's tables, not a hand-written copy.
func TestDemoFreePBXIsTheSample(t *testing.T) {
	db := testdb.New(t)
	schema := db.FreePBX(t, nil)
	conn, err := freepbx.Open(db.ReaderDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got, err := freepbx.Read(t.Context(), conn, schema)
	if err != nil {
		t.Fatal(err)
	}
	got.Read, got.Missing = nil, nil
	var want freepbx.Config
	if err := json.Unmarshal(demoFreePBX, &want); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&want, got); d != "" {
		t.Errorf("demo_freepbx.json differs from the sample clinic's tables (-demo +read):\n%s", d)
	}
}

// TestRun_FreePBXReadAgainOnSIGHUP: the daemon starts without the ringgroups grant (a ring
// group call is received for its first phone); the admin grants it and reloads: the next ring
// group call is received for the group, without a restart.
func TestRun_FreePBXReadAgainOnSIGHUP(t *testing.T) {
	s := newSite(t, opts{})
	schema := s.db.FreePBX(t, func(g string) bool { return !strings.Contains(g, ".ringgroups ") })
	s.config = s.writeConfig(t, opts{extra: fmt.Sprintf("[freepbx]\ndatabase = %q\n", schema)})
	d := startRun(t, s.config)
	g1 := goldenRows(t, "fp17-g1-ringgroup17-answered")
	s.db.Insert(t, g1...)
	clitest.WaitFor(t, 20*time.Second, "the first ring group call at the CRM", func() bool { return s.crm.hangups() == 1 })

	s.db.GrantAlso(t, schema, "ringgroups")
	if err := d.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	clitest.WaitFor(t, 20*time.Second, "the ring groups read again", func() bool { return strings.Contains(d.log.String(), "tables readable again") })
	again := make([]celbridge.CELRow, len(g1)) // the same call again, as a new one
	for i, r := range g1 {
		r.ID += 1000
		r.UniqueID = strings.Replace(r.UniqueID, "1796177291.", "1796177299.", 1)
		r.LinkedID = strings.Replace(r.LinkedID, "1796177291.", "1796177299.", 1)
		again[i] = r
	}
	s.db.Insert(t, again...)
	clitest.WaitFor(t, 20*time.Second, "the second ring group call at the CRM", func() bool { return s.crm.hangups() == 2 })
	got := perCall(s.crm.received())
	if r := got["179617729137"]; len(r) == 0 || !strings.Contains(r[0], "internalNumber=801&") {
		t.Errorf("before the grant: %q, want internalNumber=801", r)
	}
	if r := got["179617729937"]; len(r) == 0 || !strings.Contains(r[0], "internalNumber=600&") {
		t.Errorf("after the grant and SIGHUP: %q, want internalNumber=600", r)
	}
}
