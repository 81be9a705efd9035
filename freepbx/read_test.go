package freepbx_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/mapper"
)

func open(t *testing.T, db *testdb.DB) *sql.DB {
	t.Helper()
	conn, err := freepbx.Open(db.ReaderDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestRead_SampleClinic reads the sample clinic (the one of both shared captures) with the
// column-level grants of asterisk-config.md.
func TestRead_SampleClinic(t *testing.T) {
	db := testdb.New(t)
	schema := db.FreePBX(t, nil)
	c, err := freepbx.Read(t.Context(), open(t, db), schema)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Missing) != 0 {
		t.Errorf("tables left out with every grant given: %v", c.Missing)
	}
	want := &freepbx.Config{
		Names:   map[string]string{"801": "Ivan Petrenko", "802": "Olena Kovalenko", "803": "Taras Shevchuk", "804": "Iryna Bondar", "805": "Oleh Melnyk"},
		Devices: map[string]string{"PJSIP/801": "801", "PJSIP/802": "802", "PJSIP/803": "803", "PJSIP/804": "804", "PJSIP/805": "805"},
		DIDs:    map[string]string{"0443334000": "Clinic main line", "0443334001": "Oleh Melnyk direct"},
		Trunks:  []string{"kyivstar"}, TrunkCIDs: map[string]string{"kyivstar": "0443334000"},
		Routes: []freepbx.Route{
			{RouteID: "1", Name: "Kyivstar-out", Match: "0XXXXXXXXX"},
			{RouteID: "2", Name: "Kyivstar-prefix9", Prefix: "9", Match: "0XXXXXXXXX"},
		},
		RingGroups: []freepbx.Group{{Number: "600", Description: "Reception", Members: []string{"801", "802", "803"}}},
		Queues:     []freepbx.Group{{Number: "700", Description: "Registry", Members: []string{"801", "802"}}},
		FollowMe:   map[string][]string{"801": {"0961112233"}},
		ParkExt:    "70",
		Slots:      []string{"71", "72", "73", "74", "75", "76", "77", "78"},
		Missing:    map[string]error{},
	}
	c.Read = nil
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("sample clinic (-want +got):\n%s", d)
	}

	m, errs := c.MapperConfig(mapper.DefaultConfig())
	if len(errs) != 0 {
		t.Errorf("MapperConfig: %v", errs)
	}
	if len(m.Groups) != 1 || m.Groups[0].Number != "600" || !strings.Contains(m.Groups[0].Source, "FreePBX ring group 600 (Reception)") {
		t.Errorf("mapper groups %+v", m.Groups)
	}
	if len(m.OutboundRoutes) != 2 || m.FollowMe["0961112233"] != "801" {
		t.Errorf("mapper routes %d, follow-me %v", len(m.OutboundRoutes), m.FollowMe)
	}
}

// TestMapperConfig_FileWins: a group the config file names stays as the file has it.
func TestMapperConfig_FileWins(t *testing.T) {
	c := &freepbx.Config{RingGroups: []freepbx.Group{{Number: "600", Members: []string{"801", "802", "803"}}, {Number: "610", Members: []string{"804"}}}}
	base := mapper.DefaultConfig()
	base.Groups = []mapper.Group{{Number: "600", Members: []string{"801"}}}
	m, _ := c.MapperConfig(base)
	if len(m.Groups) != 2 || len(m.Groups[0].Members) != 1 || m.Groups[1].Number != "610" {
		t.Errorf("groups %+v: want the file's 600 and FreePBX's 610", m.Groups)
	}
	if len(base.Groups) != 1 {
		t.Errorf("base changed: %+v", base.Groups)
	}
}

// TestRead_WithoutGrants: without a table's grant (or on a PBX without the table) that table
// is left out with the server's reason, and the rest is read.
func TestRead_WithoutGrants(t *testing.T) {
	db := testdb.New(t)
	schema := db.FreePBX(t, func(g string) bool { return strings.Contains(g, ".users ") })
	c, err := freepbx.Read(t.Context(), open(t, db), schema)
	if err != nil {
		t.Fatal(err)
	}
	if c.Names["801"] != "Ivan Petrenko" {
		t.Errorf("users not read: %v", c.Names)
	}
	if got := len(c.MissingTables()); got != len(freepbx.Tables)-1 {
		t.Errorf("%d tables left out, want %d: %v", got, len(freepbx.Tables)-1, c.MissingTables())
	}
	for table, err := range c.Missing {
		if !freepbx.Unreadable(err) {
			t.Errorf("%s: %v is not a missing-grant error", table, err)
		}
	}
	if len(c.RingGroups) != 0 {
		t.Errorf("ring groups read without the grant: %v", c.RingGroups)
	}

	// Plain Asterisk: no such database at all.
	c, err = freepbx.Read(t.Context(), open(t, db), "no_such_db")
	if err != nil || len(c.Missing) != len(freepbx.Tables) {
		t.Errorf("no database: err %v, %d tables left out", err, len(c.Missing))
	}
}

// TestRead_ServerGone: an error that is not about a table (the server is gone) fails the read,
// so that the caller keeps its last good configuration.
func TestRead_ServerGone(t *testing.T) {
	conn, err := freepbx.Open("u:p@tcp(127.0.0.1:1)/asterisk?timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := freepbx.Read(ctx, conn, "asterisk"); err == nil || freepbx.Unreadable(err) {
		t.Errorf("read from no server: %v, want an error that fails the read", err)
	}
}

func TestGrantLine(t *testing.T) {
	for _, tt := range []struct {
		table, user, want string
	}{
		{"users", "celbridge@localhost", "GRANT SELECT (extension, name, voicemail, outboundcid) ON `asterisk`.users TO 'celbridge'@'localhost';"},
		{"ringgroups", "cb@%", "GRANT SELECT ON `asterisk`.ringgroups TO 'cb'@'%';"},
	} {
		var tab freepbx.Table
		for _, x := range freepbx.Tables {
			if x.Name == tt.table {
				tab = x
			}
		}
		if got := tab.Grant("asterisk", tt.user); got != tt.want {
			t.Errorf("Grant(%s) = %q, want %q", tt.table, got, tt.want)
		}
	}
	if err := freepbx.CheckSchema("aster`isk"); err == nil {
		t.Error("CheckSchema accepted a backquote")
	}
}
