package freepbx

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/testdb"
)

// TestStream_WireSameAsDriver: Stream gives the same rows on the wire as through the driver,
// for rows with NULLs, empty and non-ASCII values (the cel table is latin1), a value longer than the wire's buffer and
// than maxField, and enough rows to refill the buffer many times.
func TestStream_WireSameAsDriver(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	db.LoadSQL(t, "testdata/freepbx-cel/cel.sql")
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, kyiv)
	var rows []celbridge.CELRow
	for i := range 3000 {
		rows = append(rows, celbridge.CELRow{ID: int64(1000 + i), EventType: "CHAN_START", EventTime: base.Add(time.Duration(i) * time.Second),
			CIDName: "Zoë Müller", CIDNum: strconv.Itoa(100 + i%50), ChanName: "PJSIP/" + strconv.Itoa(100+i%50) + "-0000000" + strconv.Itoa(i%10),
			UniqueID: "1772348400." + strconv.Itoa(i), LinkedID: "1772348400." + strconv.Itoa(i-i%5), Extra: `{"k":"` + strings.Repeat("x", i%300) + `"}`})
	}
	rows[7].Extra = strings.Repeat("y", 200<<10) // one packet over 3 reads of the 64 KiB buffer
	// FreePBX's columns are NOT NULL and extra is 512 bytes; the reader must not rely on it.
	db.Exec(t, "ALTER TABLE cel MODIFY cid_name varchar(80) NULL, MODIFY peer varchar(255) NULL, MODIFY extra mediumtext NULL")
	db.Insert(t, rows...)
	db.Exec(t, "UPDATE cel SET cid_name = NULL, peer = NULL, extra = NULL WHERE id IN (1001, 1500)")

	wire := openSource(t, db, kyiv)
	if wire.wireCfg == nil {
		t.Fatal("a unix-socket DSN without TLS should read on the wire")
	}
	viaDriver := openSource(t, db, kyiv)
	viaDriver.wireCfg = nil
	for _, c := range []struct{ from, to int64 }{{1, 5000}, {1000, 1010}, {1, 374}, {4000, 5000}} {
		for _, n := range []int{1, 1000} {
			want := streamAll(t, viaDriver, c.from, c.to, n)
			got := streamAll(t, wire, c.from, c.to, n)
			sameRows(t, "wire against the driver", got, want)
		}
	}
	if all := streamAll(t, wire, 1, 5000, 1000); len(all) != 374+3000 || len(all[374+7].Extra) != maxField {
		t.Errorf("rows = %d, long extra kept %d bytes; want 3374 rows, %d bytes", len(all), len(all[374+7].Extra), maxField)
	}
}

// TestWire_Errors: a server error is the driver's *mysql.MySQLError, so explain's hints work
// the same; a statement of another shape is refused; the connection is open only for the query.
func TestWire_Errors(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	db.LoadSQL(t, "testdata/freepbx-cel/cel.sql")
	cfg, err := mysql.ParseDSN(db.ReaderDSN)
	if err != nil {
		t.Fatal(err)
	}
	query := func(q string, ncol int) error {
		w, err := openWire(t.Context(), cfg)
		if err != nil {
			t.Fatalf("openWire: %v", err)
		}
		defer w.Close()
		return w.query(t.Context(), q, ncol, func([][]byte) error { return nil })
	}
	var me *mysql.MySQLError
	if err := query("SELECT nosuchcolumn FROM cel", 1); !errors.As(err, &me) || me.Number != erBadField || string(me.SQLState[:]) != "42S22" {
		t.Errorf("unknown column: %v, want MySQL error %d (42S22)", err, erBadField)
	}
	if err := query("SELECT id, eventtype FROM cel", 19); err == nil || !strings.Contains(err.Error(), "2 columns, want 19") {
		t.Errorf("two columns for 19: %v", err)
	}
	if err := query("DO 1", 1); err == nil || !strings.Contains(err.Error(), "no result set") {
		t.Errorf("a statement without rows: %v", err)
	}
	if err := query("SELECT id FROM cel WHERE id < 3 ORDER BY id", 1); err != nil {
		t.Errorf("after errors on other connections: %v", err)
	}

	s := openSource(t, db, kyiv)
	// Left with one column: the query's other columns are denied (error 1143).
	db.Exec(t, "REVOKE SELECT ON `"+db.Name+"`.`cel` FROM '"+db.User+"'@'%'")
	db.Exec(t, "GRANT SELECT (id) ON `"+db.Name+"`.`cel` TO '"+db.User+"'@'%'")
	err = s.Stream(t.Context(), 1, 10, 5, func([]celbridge.CELRow) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "GRANT SELECT ON") {
		t.Errorf("Stream without the grant = %v, want explain's GRANT hint", err)
	}
}

// The tests below play the server's side of a result set on a pipe.

// packet frames payload as MySQL packet seq.
func packet(seq byte, payload []byte) []byte {
	h := make([]byte, 4, 4+len(payload))
	binary.LittleEndian.PutUint32(h, uint32(len(payload)))
	h[3] = seq
	return append(h, payload...)
}

// lenencStr encodes s as a length-encoded string.
func lenencStr(s string) []byte {
	switch n := len(s); {
	case n < 251:
		return append([]byte{byte(n)}, s...)
	case n < 1<<16:
		return append([]byte{0xfc, byte(n), byte(n >> 8)}, s...)
	case n < 1<<24:
		return append([]byte{0xfd, byte(n), byte(n >> 8), byte(n >> 16)}, s...)
	default:
		return append(binary.LittleEndian.AppendUint64([]byte{0xfe}, uint64(n)), s...)
	}
}

func rowPayload(vals ...*string) []byte {
	var p []byte
	for _, v := range vals {
		if v == nil {
			p = append(p, lenencNull)
		} else {
			p = append(p, lenencStr(*v)...)
		}
	}
	return p
}

func val(s string) *string { return &s }

var (
	eofPacket = []byte{hdrEOF, 0, 0, 2, 0}                  // warnings 0, status autocommit
	okEOF     = []byte{hdrEOF, 0, 0, 2, 0, 0, 0}            // OK with the 0xfe header (DEPRECATE_EOF)
	colDef    = append([]byte(colDefPrefix), "\x00\x00"...) // only its prefix is read
)

// result builds a two-column result set's packets: count, definitions (unless noMeta), EOF
// (unless deprecateEOF), rows, then the end.
func result(deprecateEOF, noMeta bool, rows ...[]byte) []byte {
	var b []byte
	seq := byte(1)
	add := func(p []byte) {
		b = append(b, packet(seq, p)...)
		seq++
	}
	add([]byte{2})
	if !noMeta {
		add(colDef)
		add(colDef)
	}
	if !deprecateEOF {
		add(eofPacket)
	}
	for _, r := range rows {
		add(r)
	}
	if deprecateEOF {
		add(okEOF)
	} else {
		add(eofPacket)
	}
	return b
}

// oneByteConn returns at most one byte a Read, so that every packet straddles reads.
type oneByteConn struct{ net.Conn }

func (c oneByteConn) Read(b []byte) (int, error) { return c.Conn.Read(b[:min(len(b), 1)]) }

// pipeWire returns a wire whose server side writes server (after reading the query) and
// then, unless hang, closes.
func pipeWire(t *testing.T, server []byte, oneByte, hang bool) *wire {
	t.Helper()
	client, srv := net.Pipe()
	t.Cleanup(func() { client.Close(); srv.Close() })
	go func() {
		hdr := make([]byte, 4)
		if _, err := io.ReadFull(srv, hdr); err != nil {
			return
		}
		q := make([]byte, int(binary.LittleEndian.Uint32(hdr)&0xffffff))
		if _, err := io.ReadFull(srv, q); err != nil || q[0] != comQuery {
			return
		}
		srv.Write(server)
		if hang {
			<-t.Context().Done()
		}
		srv.Close()
	}()
	var c net.Conn = client
	if oneByte {
		c = oneByteConn{client}
	}
	return &wire{conn: c, r: packetReader{conn: c, buf: make([]byte, 16), timeout: time.Minute}}
}

func collect(w *wire, ctx context.Context) ([]string, error) {
	var got []string
	err := w.query(ctx, "SELECT a, b FROM t", 2, func(cols [][]byte) error {
		for _, c := range cols {
			if c == nil {
				got = append(got, "NULL")
			} else {
				got = append(got, string(c))
			}
		}
		return nil
	})
	return got, err
}

// TestWire_ResultSets: the result set's shapes a server may send (with or without the EOF
// after the definitions, without definitions), rows split across reads and over the 16 MiB
// packet limit, and what a broken stream gives.
func TestWire_ResultSets(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("z", maxPayloadSize+10) // a row over one packet: sent as two
	longRow := rowPayload(val("3"), &long)
	split := append(packet(2, longRow[:maxPayloadSize]), packet(3, longRow[maxPayloadSize:])...)
	rows := [][]byte{rowPayload(val("1"), val("Київ")), rowPayload(val(""), nil)}
	want := "1 Київ  NULL"

	for _, c := range []struct {
		name                 string
		deprecateEOF, noMeta bool
		oneByte              bool
		server               []byte
		want, err            string
	}{
		{name: "EOF", want: want},
		{name: "DeprecateEOF", deprecateEOF: true, want: want},
		{name: "NoMetadata", deprecateEOF: true, noMeta: true, want: want},
		{name: "OneByteReads", oneByte: true, want: want},
		{name: "OneByteReadsDeprecateEOF", deprecateEOF: true, oneByte: true, want: want},
		{name: "NoRows", server: result(true, false), want: ""},
		{name: "ServerError", server: packet(1, append([]byte{hdrErr, 0x7a, 0x04}, "#42S02Table 't' doesn't exist"...)),
			err: "Error 1146 (42S02): Table 't' doesn't exist"},
		{name: "ErrorMidRows", server: append(packet(1, []byte{2}), append(packet(2, rows[0]), packet(3, []byte{hdrErr, 0x19, 0x05, '#', '7', '0', '1', '0', '0', 'x'})...)...),
			want: "1 Київ", err: "Error 1305 (70100): x"},
		{name: "ClosedMidPacket", server: append(packet(1, []byte{2}), packet(2, rows[0])[:6]...), err: "unexpected EOF"},
		{name: "OutOfSequence", server: append(packet(1, []byte{2}), packet(5, rows[0])...), err: "packet 5 arrived where 2 was due"},
		{name: "TrailingBytes", server: append(packet(1, []byte{2}), packet(2, append(rows[0], 'x'))...), err: "1 bytes after the last column"},
		{name: "ShortRow", server: append(packet(1, []byte{2}), packet(2, rowPayload(val("1")))...), err: "row ends before column 2"},
		{name: "ColumnPastRow", server: append(packet(1, []byte{2}), packet(2, []byte{1, '1', 9, 'a'})...), err: "column 2 runs past its row"},
		{name: "NoResultSet", server: packet(1, []byte{hdrOK, 0, 0, 2, 0, 0, 0}), err: "no result set"},
		{name: "LocalInfile", server: packet(1, append([]byte{hdrLocalInFile}, "/etc/passwd"...)), err: "local file"},
		{name: "LongRow", server: append(append(packet(1, []byte{2}), split...), packet(4, okEOF)...), want: "3 " + long},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			server := c.server
			if server == nil {
				server = result(c.deprecateEOF, c.noMeta, rows...)
			}
			got, err := collect(pipeWire(t, server, c.oneByte, false), t.Context())
			if s := strings.Join(got, " "); s != c.want {
				short := func(s string) string { return s[:min(len(s), 80)] }
				t.Errorf("rows %q (%d bytes), want %q (%d bytes)", short(s), len(s), short(c.want), len(c.want))
			}
			if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Errorf("err = %v, want %q", err, c.err)
			}
		})
	}
}

// TestWire_Cancel: a read blocked on a server that sends nothing more returns when ctx ends.
func TestWire_Cancel(t *testing.T) {
	t.Parallel()
	w := pipeWire(t, append(packet(1, []byte{2}), packet(2, rowPayload(val("1"), val("a")))...), false, true)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var rows int
	go func() {
		done <- w.query(ctx, "SELECT a, b FROM t", 2, func([][]byte) error {
			rows++
			cancel() // the next read blocks: the server hangs
			return nil
		})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || rows != 1 {
			t.Errorf("query = %v after %d rows, want context.Canceled after 1", err, rows)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("query still blocked 10 s after its context ended")
	}
}

// TestWireCapable: TLS DSNs and custom dialers read through the driver.
func TestWireCapable(t *testing.T) {
	for dsn, want := range map[string]bool{
		"u:p@tcp(10.0.0.5:3306)/asteriskcdrdb":                 true,
		"u@unix(/run/mysqld/mysqld.sock)/asteriskcdrdb":        true,
		"u:p@tcp(10.0.0.5:3306)/asteriskcdrdb?compress=true":   true, // turned off on the wire
		"u:p@tcp(10.0.0.5:3306)/asteriskcdrdb?tls=true":        false,
		"u:p@tcp(10.0.0.5:3306)/asteriskcdrdb?tls=preferred":   false,
		"u:p@tcp(10.0.0.5:3306)/asteriskcdrdb?tls=skip-verify": false,
	} {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if got := wireCapable(cfg); got != want {
			t.Errorf("wireCapable(%s) = %v, want %v", RedactDSN(dsn), got, want)
		}
	}
}

// BenchmarkSplitRow: a CEL row's 19 columns split in place.
func BenchmarkSplitRow(b *testing.B) {
	vals := []string{"1234567", "BRIDGE_ENTER", "2026-03-01 09:00:00", "Олена", "0671234567", "0671234567", "", "",
		"101", "from-internal", "PJSIP/101-0000001a", "Dial", "PJSIP/101,30", "", "1772348400.123", "1772348400.120",
		"", "", `{"bridge_id":"6d5c1f4e-0d4e-4c57-9b1e-0f8b1a2c3d4e","bridge_technology":"simple_bridge"}`}
	var p []byte
	for _, v := range vals {
		p = append(p, lenencStr(v)...)
	}
	cols := make([][]byte, len(vals))
	b.ReportAllocs()
	for b.Loop() {
		if err := splitRow(p, cols); err != nil {
			b.Fatal(err)
		}
	}
	if !bytes.Equal(cols[1], []byte("BRIDGE_ENTER")) {
		b.Fatal(string(cols[1]))
	}
}
