package freepbx

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/celbridge/celbridge"
)

// CEL reads FreePBX's CEL table (asteriskcdrdb.cel) with a SELECT-only user. Every
// read is a primary-key lookup or range read; nothing scans the table or its eventtime
// column, which has no index. It is safe for concurrent use.
type CEL struct {
	db    *sql.DB
	loc   *time.Location
	table string // quoted, possibly schema-qualified: `asteriskcdrdb`.`cel`
	// For operator hints: the table as a GRANT names it, the server's address, the user.
	grantOn, addr, user string
	// columns is the select list in CELRow order, with eventextra aliased to extra.
	columns string
	// wireCfg is the connection's settings when Stream reads on the wire (wire.go); nil reads
	// through the driver.
	wireCfg *mysql.Config

	queries atomic.Int64 // queries run, for tests that bound FirstIDAt
	// sizeHint is the capacity readRows allocates: the size of the last result.
	sizeHint atomic.Int64

	aheadMu sync.Mutex
	ahead   *ahead // the next batch, read in the background
	closed  bool
	aheadWG sync.WaitGroup
}

// celColumns are the columns read into celbridge.CELRow, in scan order. "extra" is
// "eventextra" on older installs.
var celColumns = []string{"id", "eventtype", "eventtime", "cid_name", "cid_num", "cid_ani",
	"cid_rdnis", "cid_dnid", "exten", "context", "channame", "appname", "appdata", "accountcode",
	"uniqueid", "linkedid", "peer", "userdeftype", "extra"}

// tableName is a table as mysql.table may name it: cel or asteriskcdrdb.cel.
var tableName = regexp.MustCompile(`^(?:([A-Za-z0-9_$]{1,64})\.)?([A-Za-z0-9_$]{1,64})$`)

// CheckTable returns an error when table is not what mysql.table may hold: cel or
// asteriskcdrdb.cel.
func CheckTable(table string) error {
	_, _, err := celTable(table, mysql.NewConfig())
	return err
}

// celTable splits mysql.table into its database (the DSN's when the table names none; "" when
// neither does) and its name.
func celTable(table string, cfg *mysql.Config) (db, name string, err error) {
	if table == "" {
		table = "cel"
	}
	m := tableName.FindStringSubmatch(table)
	if m == nil {
		return "", "", fmt.Errorf("mysql.table %q is not a table name (write it like \"cel\" or \"asteriskcdrdb.cel\")", table)
	}
	return cmp.Or(m[1], cfg.DBName), m[2], nil
}

// OpenCEL connects to the CEL database given by a go-sql-driver DSN
// ("celbridge:pw@tcp(10.0.0.5:3306)/asteriskcdrdb"), checks that table ("cel" when empty, or
// "asteriskcdrdb.cel") is readable and has FreePBX's CEL columns, and returns a source that
// reads it. eventtime is a DATETIME without zone: it is read as wall-clock time in loc (the
// PBX's time zone; time.Local when nil). Errors say what the operator should check.
func OpenCEL(ctx context.Context, dsn, table string, loc *time.Location) (*CEL, error) {
	if loc == nil {
		loc = time.Local
	}
	if table == "" {
		table = "cel"
	}
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("mysql.dsn is empty (write it like \"celbridge:password@tcp(127.0.0.1:3306)/asteriskcdrdb\")")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse mysql.dsn %s: %w", RedactDSN(dsn), err)
	}
	db, name, err := celTable(table, cfg)
	if err != nil {
		return nil, err
	}
	s := &CEL{loc: loc, addr: cfg.Addr, user: cfg.User}
	if cfg.Net == "unix" {
		s.addr = "unix socket " + cfg.Addr
	}
	s.table, s.grantOn = quoteIdent(name), name
	if db != "" {
		s.table, s.grantOn = quoteIdent(db)+"."+s.table, db+"."+name
	}
	if s.db, err = connect(cfg, loc); err != nil {
		return nil, fmt.Errorf("open mysql.dsn %s: %w", RedactDSN(dsn), err)
	}
	if wireCapable(cfg) {
		s.wireCfg = cfg
	}
	if err := s.detectColumns(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// Close stops any read-ahead and closes the connection pool.
func (s *CEL) Close() error {
	s.aheadMu.Lock()
	s.closed = true
	if s.ahead != nil {
		s.ahead.cancel()
		s.ahead = nil
	}
	s.aheadMu.Unlock()
	s.aheadWG.Wait()
	return s.db.Close()
}

// detectColumns reads the table's column names (SELECT * … LIMIT 0 reads no row and needs
// only SELECT) and builds the select list: eventextra stands in for extra on older installs,
// and columns celbridge does not use (amaflags, peeraccount, userfield…) are left out.
func (s *CEL) detectColumns(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.explain(err, "connect to MySQL at "+s.addr)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT * FROM "+s.table+" LIMIT 0")
	if err != nil {
		return s.explain(err, "read columns of "+s.grantOn)
	}
	names, err := rows.Columns()
	rows.Close()
	if err != nil {
		return s.explain(err, "read columns of "+s.grantOn)
	}
	have := map[string]string{} // lower-case name → name as the table spells it
	for _, n := range names {
		have[strings.ToLower(n)] = n
	}
	if _, ok := have["extra"]; !ok {
		if old, ok := have["eventextra"]; ok {
			have["extra"] = old
		}
	}
	var list, missing []string
	for _, c := range celColumns {
		n, ok := have[c]
		switch {
		case !ok:
			missing = append(missing, c)
		case n != c:
			list = append(list, quoteIdent(n)+" AS "+c)
		default:
			list = append(list, quoteIdent(c))
		}
	}
	if len(missing) > 0 {
		if slices.Contains(missing, "extra") {
			missing[slices.Index(missing, "extra")] = "extra (or eventextra)"
		}
		return fmt.Errorf("table %s lacks column %s: is mysql.table FreePBX's CEL table (asteriskcdrdb.cel)?",
			s.grantOn, strings.Join(missing, ", "))
	}
	s.columns = strings.Join(list, ", ")
	return nil
}

// readAfter, readRange and readIDs are the select statements; %s are the column list and the
// table. Each one reads a primary-key range.
const (
	readAfter = "SELECT %s FROM %s WHERE id > ? ORDER BY id LIMIT ?"
	readRange = "SELECT %s FROM %s WHERE id > ? AND id <= ? ORDER BY id LIMIT ?"
	readIDs   = "SELECT %s FROM %s WHERE id IN (?) ORDER BY id"
)

// ReadAfter returns up to limit rows with id > afterID, in id order: one primary-key range
// read.
//
// When a read returns a full batch (a backlog: backfill, or a poller catching up), the next
// batch is read ahead in the background, so that MariaDB streams it while the caller maps
// this one; on two cores this overlaps the database's work with ours. The read-ahead is used
// only by the call that asks for exactly that batch, and only when it came back full (so no
// row committed meanwhile is missed that the batch's end would have included); otherwise it
// is dropped and the read is done afresh.
func (s *CEL) ReadAfter(ctx context.Context, afterID int64, limit int) ([]celbridge.CELRow, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("read cel after id %d: limit %d is not positive", afterID, limit)
	}
	rows, err := s.takeAhead(ctx, afterID, limit)
	if rows == nil && err == nil {
		rows, err = s.readRows(ctx, s.query(readAfter), afterID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("read cel after id %d: %w", afterID, err)
	}
	if len(rows) == limit {
		s.readAhead(rows[len(rows)-1].ID, limit)
	}
	return rows, nil
}

// ahead is a ReadAfter running in the background.
type ahead struct {
	after  int64
	limit  int
	cancel context.CancelFunc
	done   chan struct{}
	rows   []celbridge.CELRow // valid once done is closed
	err    error
	at     time.Time // when the read ended
}

// maxAheadAge is how long a read-ahead batch stays usable: a caller that comes back later
// reads afresh.
const maxAheadAge = time.Second

// readAhead starts reading the batch after afterID, replacing any read-ahead not taken.
func (s *CEL) readAhead(afterID int64, limit int) {
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	a := &ahead{after: afterID, limit: limit, cancel: cancel, done: make(chan struct{})}
	s.aheadMu.Lock()
	if s.closed {
		s.aheadMu.Unlock()
		cancel()
		return
	}
	old := s.ahead
	s.ahead = a
	s.aheadWG.Add(1)
	s.aheadMu.Unlock()
	if old != nil {
		old.cancel()
	}
	go func() {
		defer s.aheadWG.Done()
		defer cancel()
		a.rows, a.err = s.readRows(ctx, s.query(readAfter), afterID, limit)
		a.at = time.Now()
		close(a.done)
	}()
}

// takeAhead returns the read-ahead batch for (afterID, limit) if there is a usable one;
// (nil, nil) means read afresh.
func (s *CEL) takeAhead(ctx context.Context, afterID int64, limit int) ([]celbridge.CELRow, error) {
	s.aheadMu.Lock()
	a := s.ahead
	s.ahead = nil
	s.aheadMu.Unlock()
	if a == nil {
		return nil, nil
	}
	if a.after != afterID || a.limit != limit {
		a.cancel()
		return nil, nil
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		a.cancel()
		return nil, ctx.Err()
	}
	if a.err != nil || len(a.rows) != limit || time.Since(a.at) > maxAheadAge {
		return nil, nil
	}
	return a.rows, nil
}

// ReadRange returns up to limit rows with fromID < id <= toID, in id order.
func (s *CEL) ReadRange(ctx context.Context, fromID, toID int64, limit int) ([]celbridge.CELRow, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("read cel ids %d..%d: limit %d is not positive", fromID+1, toID, limit)
	}
	rows, err := s.readRows(ctx, s.query(readRange), fromID, toID, limit)
	if err != nil {
		return nil, fmt.Errorf("read cel ids %d..%d: %w", fromID+1, toID, err)
	}
	return rows, nil
}

// idsPerQuery bounds the IN list of one ReadIDs query.
const idsPerQuery = 500

// ReadIDs returns the rows with the given ids that exist, in id order: the poller asks for
// ids that were missing (a gap) and may have been committed late.
func (s *CEL) ReadIDs(ctx context.Context, ids []int64) ([]celbridge.CELRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var all []celbridge.CELRow
	for chunk := range slices.Chunk(ids, idsPerQuery) {
		q, args, err := sqlx.In(s.query(readIDs), chunk)
		if err != nil {
			return nil, fmt.Errorf("read %d cel ids from %d: %w", len(chunk), chunk[0], err)
		}
		rows, err := s.readRows(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("read %d cel ids from %d: %w", len(chunk), chunk[0], err)
		}
		all = append(all, rows...)
	}
	return all, nil
}

func (s *CEL) query(format string) string {
	return fmt.Sprintf(format, s.columns, s.table)
}

// readRows runs a select of s.columns and scans every row. All text is read as raw bytes
// and converted here, so no value can fail the batch: NULL becomes "", and a NULL, zero or
// invalid eventtime becomes the zero time.
func (s *CEL) readRows(ctx context.Context, q string, args ...any) ([]celbridge.CELRow, error) {
	s.queries.Add(1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.explain(err, "query "+s.grantOn)
	}
	defer rows.Close()
	out := make([]celbridge.CELRow, 0, s.sizeHint.Load())
	dec := newRowDecoder(s.loc)
	for rows.Next() {
		r, err := dec.scan(rows, lastID(out))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.explain(err, "read "+s.grantOn)
	}
	// The next read likely returns as many rows: allocate for them at once (bounded, so that a
	// huge batch does not pin memory for idle polls).
	s.sizeHint.Store(int64(min(max(len(out), 16), 4096)))
	return out, nil
}

// readBetween reads a whole id range in one statement, for Stream.
const readBetween = "SELECT %s FROM %s WHERE id BETWEEN %d AND %d ORDER BY id"

// Stream reads the rows with fromID <= id <= toID in id order with one primary-key-bounded
// query, and passes them to fn in chunks of at most chunk rows, in order. The server sends the
// rows as they are taken (nothing is buffered whole on either side), so memory does not grow
// with the range. One goroutine takes the rows off the connection as raw bytes, a chunk or two
// ahead of this one, which turns them into CELRows and calls fn: on two cores the driver's
// work and celbridge's overlap. fn must not keep the slice: it is reused once fn returns. An
// error from fn stops the read and is returned as it is.
//
// This is backfill's read; the live poller reads in batches (ReadAfter), which never hold a
// statement open on the PBX's database between polls.
func (s *CEL) Stream(ctx context.Context, fromID, toID int64, chunk int, fn func([]celbridge.CELRow) error) error {
	if chunk <= 0 {
		return fmt.Errorf("read cel ids %d..%d: chunk %d is not positive", fromID, toID, chunk)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // also ends the statement early: the driver drops the connection
	const buffers = 4
	full := make(chan *rawChunk, buffers)
	free := make(chan *rawChunk, buffers)
	for range buffers {
		free <- &rawChunk{}
	}
	read := make(chan error, 1)
	go func() {
		defer close(full)
		read <- s.stream(ctx, fromID, toID, chunk, full, free)
	}()
	dec := newRowDecoder(s.loc)
	rows := make([]celbridge.CELRow, 0, chunk)
	var fnErr error
	for c := range full {
		if fnErr == nil {
			rows = rows[:0]
			dec.reset()
			for i := range c.n {
				rows = append(rows, dec.decode(c.id[i], c.row(i)))
			}
			if fnErr = fn(rows); fnErr != nil {
				cancel()
			}
		}
		free <- c
	}
	if fnErr != nil {
		return fnErr
	}
	if err := <-read; err != nil {
		return fmt.Errorf("read cel ids %d..%d: %w", fromID, toID, err)
	}
	return nil
}

// rawChunk is rows as the server sent them: their ids, and the other 18 columns as spans of
// one byte arena (NULL is empty).
type rawChunk struct {
	n     int
	id    []int64
	spans [][18][2]int32
	arena []byte
	cols  [19][]byte // row's scratch
}

func (c *rawChunk) reset() {
	c.n, c.id, c.spans, c.arena = 0, c.id[:0], c.spans[:0], c.arena[:0]
}

// add appends a row; cols are its columns after the id.
func (c *rawChunk) add(id int64, cols [][]byte) {
	var sp [18][2]int32
	for i, b := range cols {
		b = capField(b)
		sp[i] = [2]int32{int32(len(c.arena)), int32(len(c.arena) + len(b))}
		c.arena = append(c.arena, b...)
	}
	c.id = append(c.id, id)
	c.spans = append(c.spans, sp)
	c.n++
}

// row returns row i's columns, indexed as celColumns (the id's slot is empty).
func (c *rawChunk) row(i int) *[19][]byte {
	for j, sp := range c.spans[i] {
		c.cols[j+1] = c.arena[sp[0]:sp[1]:sp[1]]
	}
	return &c.cols
}

// chunker fills chunks taken from free with rows and sends each full one to full.
type chunker struct {
	size       int
	full, free chan *rawChunk
	c          *rawChunk
	last       int64 // the last row's id, for errors
}

// add appends a row: its id and its other columns.
func (k *chunker) add(ctx context.Context, id int64, cols [][]byte) error {
	if k.c == nil {
		select {
		case k.c = <-k.free:
		case <-ctx.Done():
			return ctx.Err()
		}
		k.c.reset()
	}
	k.c.add(id, cols)
	k.last = id
	if k.c.n == k.size {
		k.full <- k.c
		k.c = nil
	}
	return nil
}

// flush sends the last chunk, when it holds rows.
func (k *chunker) flush() {
	if k.c != nil && k.c.n > 0 {
		k.full <- k.c
		k.c = nil
	}
}

// stream runs Stream's query and sends the rows to full in chunks taken from free. It reads
// on the wire (wire.go) when the DSN allows it, else through the driver's own interface.
func (s *CEL) stream(ctx context.Context, fromID, toID int64, chunk int, full, free chan *rawChunk) error {
	s.queries.Add(1)
	// The ids are integers formatted here, so the statement needs no parameters.
	q := fmt.Sprintf(readBetween, s.columns, s.table, fromID, toID)
	k := &chunker{size: chunk, full: full, free: free, last: fromID - 1}
	read := s.streamDriver
	if s.wireCfg != nil {
		read = s.streamWire
	}
	if err := read(ctx, q, k); err != nil {
		return err
	}
	k.flush()
	return nil
}

// streamWire reads q's rows on a wire connection of its own.
func (s *CEL) streamWire(ctx context.Context, q string, k *chunker) error {
	w, err := openWire(ctx, s.wireCfg)
	if err != nil {
		return s.explain(err, "connect to "+s.grantOn)
	}
	defer w.Close()
	err = w.query(ctx, q, len(celColumns), func(cols [][]byte) error {
		id, ok := parseID(cols[0])
		if !ok {
			return fmt.Errorf("scan cel row after id %d: id %q is not an integer", k.last, cols[0])
		}
		return k.add(ctx, id, cols[1:])
	})
	if err != nil {
		return s.explain(err, "read "+s.grantOn)
	}
	return nil
}

// streamDriver reads q's rows through the driver's own interface: database/sql's per-row
// locking and conversions cost as much as the rest of the read (BENCHMARKS.md).
func (s *CEL) streamDriver(ctx context.Context, q string, k *chunker) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.explain(err, "connect to "+s.grantOn)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("the MySQL driver cannot run a query directly (%T)", dc)
		}
		rows, err := qc.QueryContext(ctx, q, nil)
		if err != nil {
			return s.explain(err, "query "+s.grantOn)
		}
		defer rows.Close()
		vals := make([]driver.Value, len(rows.Columns()))
		if len(vals) != len(celColumns) {
			return fmt.Errorf("query %s: %d columns, want %d", s.grantOn, len(vals), len(celColumns))
		}
		cols := make([][]byte, len(vals)-1)
		for {
			err := rows.Next(vals)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return s.explain(err, "read "+s.grantOn)
			}
			id, ok := driverID(vals[0])
			if !ok {
				return fmt.Errorf("scan cel row after id %d: id %v is not an integer", k.last, vals[0])
			}
			for i, v := range vals[1:] {
				switch v := v.(type) {
				case nil:
					cols[i] = nil
				case []byte:
					cols[i] = v
				case string:
					cols[i] = []byte(v)
				default:
					return fmt.Errorf("scan cel row after id %d: column %s is %T, not text", k.last, celColumns[i+1], v)
				}
			}
			if err := k.add(ctx, id, cols); err != nil {
				return err
			}
		}
	})
}

// driverID reads the id column as the driver returns it.
func driverID(v driver.Value) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, v >= 0
	case uint64:
		return int64(v), v <= 1<<62
	case []byte:
		return parseID(v)
	}
	return 0, false
}

// rowDecoder turns raw CEL columns into CELRows. This is the backfill's hot path: values that
// repeat (event types, contexts, a call's linkedid and channel names…) are allocated once per
// batch or chunk, and eventtime is parsed once per distinct value.
type rowDecoder struct {
	loc        *time.Location
	raw        [19]sql.RawBytes
	dest       []any
	in         interner
	last       [19]string // each column's previous value: rows of one call come together
	lastTime   []byte
	lastParsed time.Time
}

func newRowDecoder(loc *time.Location) *rowDecoder {
	d := &rowDecoder{loc: loc, dest: make([]any, 19), in: make(interner, 256)}
	for i := range d.raw {
		d.dest[i] = &d.raw[i]
	}
	return d
}

// maxInternerSize bounds the strings one decoder keeps between resets.
const maxInternerSize = 4096

// reset lets the strings interned so far go, when there are many (a new chunk began).
func (d *rowDecoder) reset() {
	if len(d.in) > maxInternerSize {
		clear(d.in)
	}
}

// scan reads the current row of rows; after is the id before it, for errors.
func (d *rowDecoder) scan(rows *sql.Rows, after int64) (celbridge.CELRow, error) {
	if err := rows.Scan(d.dest...); err != nil {
		return celbridge.CELRow{}, fmt.Errorf("scan cel row after id %d: %w", after, err)
	}
	id, ok := parseID(d.raw[0])
	if !ok {
		return celbridge.CELRow{}, fmt.Errorf("scan cel row after id %d: id %q is not an integer", after, d.raw[0])
	}
	var cols [19][]byte
	for i := 1; i < len(cols); i++ {
		cols[i] = capField(d.raw[i])
	}
	return d.decode(id, &cols), nil
}

// decode builds the row with id from its columns, indexed as celColumns.
func (d *rowDecoder) decode(id int64, raw *[19][]byte) celbridge.CELRow {
	var r celbridge.CELRow
	r.ID = id
	r.EventType = d.get(1, raw[1])
	if !bytes.Equal(raw[2], d.lastTime) || d.lastTime == nil {
		d.lastTime = append(d.lastTime[:0], raw[2]...)
		d.lastParsed = parseEventTimeBytes(raw[2], d.loc)
	}
	r.EventTime = d.lastParsed
	r.CIDName = d.get(3, raw[3])
	r.CIDNum = d.get(4, raw[4])
	r.CIDANI = d.get(5, raw[5])
	r.CIDRDNIS = d.get(6, raw[6])
	r.CIDDNID = d.get(7, raw[7])
	r.Exten = d.get(8, raw[8])
	r.Context = d.get(9, raw[9])
	r.ChanName = d.get(10, raw[10])
	r.AppName = d.get(11, raw[11])
	r.AppData = d.get(12, raw[12])
	r.AccountCode = d.get(13, raw[13])
	r.UniqueID = d.get(14, raw[14])
	r.LinkedID = d.get(15, raw[15])
	r.Peer = d.get(16, raw[16])
	r.UserDefType = d.get(17, raw[17])
	r.Extra = d.get(18, raw[18])
	return r
}

// get returns column col's value b as a string: the previous row's when it is the same (no
// lookup), else the interned one.
func (d *rowDecoder) get(col int, b []byte) string {
	if string(b) == d.last[col] { // compared without allocating
		return d.last[col]
	}
	v := d.in.get(b)
	d.last[col] = v
	return v
}

// maxField is the most kept of one text column of a CEL row. Real values are far shorter
// (a Dial's appdata, a conference's peer list, a few hundred bytes); a batch of rows with a
// megabyte of extra each raised memory by hundreds of MB. A value cut short is then
// malformed (bad extra JSON), which the mapper reports and lives with.
const maxField = 8 << 10

func capField(b []byte) []byte {
	if len(b) > maxField {
		return b[:maxField]
	}
	return b
}

// interner returns one string per distinct byte value within a batch.
type interner map[string]string

// maxInterned is the longest value interned; longer ones (JSON extra) rarely repeat.
const maxInterned = 160

func (in interner) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInterned {
		return string(b)
	}
	if v, ok := in[string(b)]; ok { // no allocation for the lookup
		return v
	}
	v := string(b)
	in[v] = v
	return v
}

// parseID reads a non-negative decimal id without allocating.
func parseID(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func lastID(rows []celbridge.CELRow) int64 {
	if len(rows) == 0 {
		return 0
	}
	return rows[len(rows)-1].ID
}

// eventTimeLayouts are the forms a DATETIME (with or without fractional seconds) or a DATE
// arrives in as text.
var eventTimeLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", time.DateOnly}

// parseEventTimeBytes is parseEventTime for a raw column value, with a fast path for the
// common "YYYY-MM-DD HH:MM:SS".
func parseEventTimeBytes(b []byte, loc *time.Location) time.Time {
	if len(b) == 19 && b[4] == '-' && b[7] == '-' && b[10] == ' ' && b[13] == ':' && b[16] == ':' {
		num := func(i, n int) (int, bool) {
			v := 0
			for _, c := range b[i : i+n] {
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int(c-'0')
			}
			return v, true
		}
		y, ok1 := num(0, 4)
		mo, ok2 := num(5, 2)
		d, ok3 := num(8, 2)
		h, ok4 := num(11, 2)
		mi, ok5 := num(14, 2)
		sec, ok6 := num(17, 2)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && y > 0 && mo >= 1 && mo <= 12 && d >= 1 && h < 24 && mi < 60 && sec < 60 {
			t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc)
			if t.Day() == d { // not normalised from an impossible date such as 02-30
				return t
			}
			return time.Time{}
		}
	}
	return parseEventTime(string(b), loc)
}

// parseEventTime reads a zone-less eventtime in loc. '0000-00-00 00:00:00', impossible dates
// and anything else that is not a time give the zero time.
func parseEventTime(s string, loc *time.Location) time.Time {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}
	}
	for _, layout := range eventTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t
		}
	}
	return time.Time{}
}

// maxID and newest read the ends of the primary key; MAX(id) is answered from the index.
const (
	maxID  = "SELECT COALESCE(MAX(id), 0) FROM %s"
	minID  = "SELECT COALESCE(MIN(id), 0) FROM %s"
	newest = "SELECT id, eventtime FROM %s ORDER BY id DESC LIMIT 1"
)

// MaxID returns the highest id in the table, 0 when it is empty.
func (s *CEL) MaxID(ctx context.Context) (int64, error) {
	id, err := s.scalar(ctx, maxID)
	if err != nil {
		return 0, fmt.Errorf("read newest cel id: %w", err)
	}
	return id, nil
}

func (s *CEL) scalar(ctx context.Context, format string) (int64, error) {
	s.queries.Add(1)
	var v int64
	if err := s.db.QueryRowContext(ctx, fmt.Sprintf(format, s.table)).Scan(&v); err != nil {
		return 0, s.explain(err, "query "+s.grantOn)
	}
	return v, nil
}

// Newest returns the id and eventtime of the newest row (0 and the zero time when the table
// is empty); status uses it to show how far behind the PBX celbridge is.
func (s *CEL) Newest(ctx context.Context) (id int64, t time.Time, err error) {
	stamps, err := s.stamps(ctx, fmt.Sprintf(newest, s.table))
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read newest cel row: %w", err)
	}
	if len(stamps) == 0 {
		return 0, time.Time{}, nil
	}
	return stamps[0].id, stamps[0].at, nil
}

// Lag is how far a reader at some cursor is behind the newest CEL row.
type Lag struct {
	NewestID   int64
	NewestTime time.Time // zero when the table is empty
	// Rows is how many ids lie after the cursor; Behind how much older than the newest row
	// the first unread row is.
	Rows   int64
	Behind time.Duration
}

// Lag returns the newest row and how far cursor is behind it (a negative cursor: the newest
// row only).
func (s *CEL) Lag(ctx context.Context, cursor int64) (Lag, error) {
	var l Lag
	var err error
	if l.NewestID, l.NewestTime, err = s.Newest(ctx); err != nil || cursor < 0 {
		return l, err
	}
	l.Rows = max(l.NewestID-cursor, 0)
	if l.Rows == 0 {
		return l, nil
	}
	next, err := s.ReadAfter(ctx, cursor, 1)
	if err != nil {
		return l, err
	}
	if len(next) == 1 && !next[0].EventTime.IsZero() && !l.NewestTime.IsZero() {
		l.Behind = max(l.NewestTime.Sub(next[0].EventTime), 0)
	}
	return l, nil
}

// stamp is a row's id and eventtime, all that FirstIDAt needs.
type stamp struct {
	id int64
	at time.Time
}

// stamps runs a query returning (id, eventtime) rows.
func (s *CEL) stamps(ctx context.Context, q string, args ...any) ([]stamp, error) {
	s.queries.Add(1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.explain(err, "query "+s.grantOn)
	}
	defer rows.Close()
	var out []stamp
	for rows.Next() {
		var st stamp
		var at sql.NullString
		if err := rows.Scan(&st.id, &at); err != nil {
			return nil, fmt.Errorf("scan cel id and eventtime: %w", err)
		}
		st.at = parseEventTime(at.String, s.loc)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, s.explain(err, "read "+s.grantOn)
	}
	return out, nil
}

// FirstIDAt's queries: probe looks at the rows from one id on (a few, to step over rows
// without a valid eventtime); scan reads forward through the last stretch.
const (
	probeAt      = "SELECT id, eventtime FROM %s WHERE id >= ? ORDER BY id LIMIT 8"
	scanAfter    = "SELECT id, eventtime FROM %s WHERE id > ? ORDER BY id LIMIT ?"
	scanBatch    = 500
	maxScanBatch = 20
)

// jitterSlack is how far out of order eventtime may be in id order. Rows are inserted as
// events happen, but concurrent channels can commit a row stamped a second or two earlier
// after a later one. FirstIDAt searches for t-jitterSlack by bisection, then reads forward.
const jitterSlack = time.Minute

// FirstIDAt returns the id of the first row (in id order) whose eventtime is at or after t,
// or MaxID+1 when there is none (1 on an empty table), so FirstIDAt(t)-1 is always a valid
// cursor. eventtime has no index, so it bisects the primary key, reading a few rows per step
// (about log2(MaxID) small queries), and then reads forward from the first row at t-1m to the
// exact answer. That assumes eventtime never goes back by more than a minute in id order; rows
// with no valid eventtime count as older than t.
func (s *CEL) FirstIDAt(ctx context.Context, t time.Time) (int64, error) {
	id, err := s.firstIDAt(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("find first cel id at %s: %w", t.In(s.loc).Format(time.DateTime), err)
	}
	return id, nil
}

func (s *CEL) firstIDAt(ctx context.Context, t time.Time) (int64, error) {
	lo, err := s.scalar(ctx, minID)
	if err != nil {
		return 0, err
	}
	hi, err := s.scalar(ctx, maxID)
	if err != nil {
		return 0, err
	}
	if hi == 0 { // empty table
		return 1, nil
	}
	hi++
	// Invariant: rows below lo are older than target; the first row at or above hi is not
	// (or there is none).
	target := t.Add(-jitterSlack)
	for lo < hi {
		mid := lo + (hi-lo)/2
		st, ok, err := s.probe(ctx, mid)
		switch {
		case err != nil:
			return 0, err
		case !ok || st.id >= hi: // no row in [mid, hi)
			hi = mid
		case st.at.Before(target):
			lo = st.id + 1
		default:
			hi = st.id
		}
	}
	return s.scanTo(ctx, lo-1, t)
}

// probe returns the first row at or after id with a valid eventtime, or the first row when
// none of the next few has one (it then counts as old).
func (s *CEL) probe(ctx context.Context, id int64) (stamp, bool, error) {
	rows, err := s.stamps(ctx, fmt.Sprintf(probeAt, s.table), id)
	if err != nil || len(rows) == 0 {
		return stamp{}, false, err
	}
	for _, r := range rows {
		if !r.at.IsZero() {
			return r, true, nil
		}
	}
	return rows[0], true, nil
}

// scanTo reads forward from after and returns the first row at or after t. It gives up after
// maxScanBatch batches (eventtime far out of order) and returns the row it started at, which
// errs towards including more.
func (s *CEL) scanTo(ctx context.Context, after int64, t time.Time) (int64, error) {
	start, last := int64(0), after
	for range maxScanBatch {
		rows, err := s.stamps(ctx, fmt.Sprintf(scanAfter, s.table), last, scanBatch)
		if err != nil {
			return 0, err
		}
		for _, r := range rows {
			if start == 0 {
				start = r.id
			}
			if !r.at.IsZero() && !r.at.Before(t) {
				return r.id, nil
			}
			last = r.id
		}
		if len(rows) < scanBatch {
			return last + 1, nil
		}
	}
	return start, nil
}
