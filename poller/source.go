package poller

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
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

// MySQLSource reads FreePBX's CEL table (asteriskcdrdb.cel) with a SELECT-only user. Every
// read is a primary-key lookup or range read; nothing scans the table or its eventtime
// column, which has no index. It is safe for concurrent use.
type MySQLSource struct {
	db    *sqlx.DB
	loc   *time.Location
	table string // quoted, possibly schema-qualified: `asteriskcdrdb`.`cel`
	// For operator hints: the table as a GRANT names it, the server's address, the user.
	grantOn, addr, user string
	// columns is the select list in CELRow order, with eventextra aliased to extra.
	columns string

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

// Connection settings: the PBX's database must not feel celbridge. Two connections are
// enough for one poller plus a status or backfill query.
const (
	dialTimeout     = 5 * time.Second
	ioTimeout       = 30 * time.Second
	maxOpenConns    = 2
	connMaxLifetime = 5 * time.Minute
	connMaxIdleTime = time.Minute
)

// tableName is a table as mysql.table may name it: cel or asteriskcdrdb.cel.
var tableName = regexp.MustCompile(`^(?:([A-Za-z0-9_$]{1,64})\.)?([A-Za-z0-9_$]{1,64})$`)

// OpenMySQL connects to the CEL database given by a go-sql-driver DSN
// ("celbridge:pw@tcp(10.0.0.5:3306)/asteriskcdrdb"), checks that table ("cel" when empty, or
// "asteriskcdrdb.cel") is readable and has FreePBX's CEL columns, and returns a source that
// reads it. eventtime is a DATETIME without zone: it is read as wall-clock time in loc (the
// PBX's time zone; time.Local when nil). Errors say what the operator should check.
func OpenMySQL(ctx context.Context, dsn, table string, loc *time.Location) (*MySQLSource, error) {
	if loc == nil {
		loc = time.Local
	}
	if table == "" {
		table = "cel"
	}
	m := tableName.FindStringSubmatch(table)
	if m == nil {
		return nil, fmt.Errorf("mysql.table %q is not a table name (write it like \"cel\" or \"asteriskcdrdb.cel\")", table)
	}
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("mysql.dsn is empty (write it like \"celbridge:password@tcp(127.0.0.1:3306)/asteriskcdrdb\")")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse mysql.dsn %s: %w", RedactDSN(dsn), err)
	}
	s := &MySQLSource{loc: loc, addr: cfg.Addr, user: cfg.User}
	if cfg.Net == "unix" {
		s.addr = "unix socket " + cfg.Addr
	}
	s.table, s.grantOn = quoteIdent(m[2]), m[2]
	if db := cmp.Or(m[1], cfg.DBName); db != "" {
		s.table, s.grantOn = quoteIdent(db)+"."+s.table, db+"."+m[2]
	}
	if s.db, err = openPool(cfg, loc); err != nil {
		return nil, fmt.Errorf("open mysql.dsn %s: %w", RedactDSN(dsn), err)
	}
	if err := s.detectColumns(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// openPool builds the connection pool. eventtime is parsed by hand (ParseTime off) so that a
// NULL, zero or garbage value cannot fail a batch. Our only parameters are integers, so they
// are interpolated client-side: one round trip per query instead of prepare/execute/close.
func openPool(cfg *mysql.Config, loc *time.Location) (*sqlx.DB, error) {
	cfg.ParseTime = false
	cfg.MultiStatements = false
	cfg.Loc = loc
	if cfg.Timeout == 0 {
		cfg.Timeout = dialTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = ioTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = ioTimeout
	}
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil { // a collation that forbids interpolation: use server-side statements
		cfg.InterpolateParams = false
		if conn, err = mysql.NewConnector(cfg); err != nil {
			return nil, err
		}
	}
	db := sqlx.NewDb(sql.OpenDB(conn), "mysql")
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	return db, nil
}

// Close stops any read-ahead and closes the connection pool.
func (s *MySQLSource) Close() error {
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
func (s *MySQLSource) detectColumns(ctx context.Context) error {
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

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

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
func (s *MySQLSource) ReadAfter(ctx context.Context, afterID int64, limit int) ([]celbridge.CELRow, error) {
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
func (s *MySQLSource) readAhead(afterID int64, limit int) {
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
func (s *MySQLSource) takeAhead(ctx context.Context, afterID int64, limit int) ([]celbridge.CELRow, error) {
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
func (s *MySQLSource) ReadRange(ctx context.Context, fromID, toID int64, limit int) ([]celbridge.CELRow, error) {
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
func (s *MySQLSource) ReadIDs(ctx context.Context, ids []int64) ([]celbridge.CELRow, error) {
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

func (s *MySQLSource) query(format string) string {
	return fmt.Sprintf(format, s.columns, s.table)
}

// readRows runs a select of s.columns and scans every row. All text is read as raw bytes
// and converted here, so no value can fail the batch: NULL becomes "", and a NULL, zero or
// invalid eventtime becomes the zero time. This is the backfill's hot path: values that
// repeat within a batch (event types, contexts, a call's linkedid and channel names…) are
// allocated once per batch, and eventtime is parsed once per distinct value.
func (s *MySQLSource) readRows(ctx context.Context, q string, args ...any) ([]celbridge.CELRow, error) {
	s.queries.Add(1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.explain(err, "query "+s.grantOn)
	}
	defer rows.Close()
	out := make([]celbridge.CELRow, 0, s.sizeHint.Load())
	var raw [19]sql.RawBytes
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	in := make(interner, 256)
	var lastTime []byte
	var lastParsed time.Time
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("scan cel row after id %d: %w", lastID(out), err)
		}
		var r celbridge.CELRow
		id, ok := parseID(raw[0])
		if !ok {
			return nil, fmt.Errorf("scan cel row after id %d: id %q is not an integer", lastID(out), raw[0])
		}
		r.ID = id
		r.EventType = in.get(raw[1])
		if !bytes.Equal(raw[2], lastTime) || lastTime == nil {
			lastTime = append(lastTime[:0], raw[2]...)
			lastParsed = parseEventTimeBytes(raw[2], s.loc)
		}
		r.EventTime = lastParsed
		for i, p := range [...]*string{&r.CIDName, &r.CIDNum, &r.CIDANI, &r.CIDRDNIS, &r.CIDDNID,
			&r.Exten, &r.Context, &r.ChanName, &r.AppName, &r.AppData, &r.AccountCode,
			&r.UniqueID, &r.LinkedID, &r.Peer, &r.UserDefType, &r.Extra} {
			*p = in.get(capField(raw[i+3]))
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
func (s *MySQLSource) MaxID(ctx context.Context) (int64, error) {
	id, err := s.scalar(ctx, maxID)
	if err != nil {
		return 0, fmt.Errorf("read newest cel id: %w", err)
	}
	return id, nil
}

func (s *MySQLSource) scalar(ctx context.Context, format string) (int64, error) {
	s.queries.Add(1)
	var v int64
	if err := s.db.QueryRowContext(ctx, fmt.Sprintf(format, s.table)).Scan(&v); err != nil {
		return 0, s.explain(err, "query "+s.grantOn)
	}
	return v, nil
}

// Newest returns the id and eventtime of the newest row (0 and the zero time when the table
// is empty); status uses it to show how far behind the PBX celbridge is.
func (s *MySQLSource) Newest(ctx context.Context) (id int64, t time.Time, err error) {
	stamps, err := s.stamps(ctx, fmt.Sprintf(newest, s.table))
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read newest cel row: %w", err)
	}
	if len(stamps) == 0 {
		return 0, time.Time{}, nil
	}
	return stamps[0].id, stamps[0].at, nil
}

// stamp is a row's id and eventtime, all that FirstIDAt needs.
type stamp struct {
	id int64
	at time.Time
}

// stamps runs a query returning (id, eventtime) rows.
func (s *MySQLSource) stamps(ctx context.Context, q string, args ...any) ([]stamp, error) {
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
func (s *MySQLSource) FirstIDAt(ctx context.Context, t time.Time) (int64, error) {
	id, err := s.firstIDAt(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("find first cel id at %s: %w", t.In(s.loc).Format(time.DateTime), err)
	}
	return id, nil
}

func (s *MySQLSource) firstIDAt(ctx context.Context, t time.Time) (int64, error) {
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
func (s *MySQLSource) probe(ctx context.Context, id int64) (stamp, bool, error) {
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
func (s *MySQLSource) scanTo(ctx context.Context, after int64, t time.Time) (int64, error) {
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

// SocketHint is where FreePBX's MariaDB listens, for the hint of a failed connection (the
// README's install section says the same).
const SocketHint = "FreePBX 17 on Debian: unix(/run/mysqld/mysqld.sock); FreePBX distro (SNG7): unix(/var/lib/mysql/mysql.sock); or tcp(127.0.0.1:3306)"

// MySQL error numbers that get an operator hint.
const (
	erDBAccessDenied     = 1044
	erAccessDenied       = 1045
	erNoDB               = 1046
	erBadDB              = 1049
	erTableAccessDenied  = 1142
	erColumnAccessDenied = 1143
	erNoSuchTable        = 1146
	erAccessDeniedNoPass = 1698
)

// account matches 'user'@'host' in a MySQL error message.
var account = regexp.MustCompile(`'([^']*)'@'([^']*)'`)

// explain wraps err as "<what>: <err>" and, for the errors an operator can fix, adds what to
// do. It never includes the DSN or the password.
func (s *MySQLSource) explain(err error, what string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		user, host := s.user, "%"
		if m := account.FindStringSubmatch(me.Message); m != nil {
			user, host = m[1], m[2]
		}
		grant := fmt.Sprintf("GRANT SELECT ON %s TO '%s'@'%s'", s.grantOn, user, host)
		switch me.Number {
		case erAccessDenied, erAccessDeniedNoPass:
			return fmt.Errorf("connect to MySQL at %s: %w (check the user and password in mysql.dsn; the user needs only %s)",
				s.addr, err, grant)
		case erTableAccessDenied, erColumnAccessDenied: // also what a missing table looks like
			return fmt.Errorf("%s: %w (check mysql.table; if it is right, the user lacks the grant: as a MySQL admin run %s)",
				what, err, grant)
		case erDBAccessDenied:
			return fmt.Errorf("%s: %w (check the database in mysql.dsn; if it is right, the user lacks the grant: as a MySQL admin run %s)",
				what, err, grant)
		case erNoSuchTable, erBadDB:
			return fmt.Errorf("%s: %w (check mysql.table and the database in mysql.dsn; FreePBX keeps CEL in asteriskcdrdb.cel)", what, err)
		case erNoDB:
			return fmt.Errorf("%s: %w (name the table as asteriskcdrdb.cel in mysql.table, or end mysql.dsn with /asteriskcdrdb)", what, err)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, mysql.ErrInvalidConn) {
		return fmt.Errorf("connect to MySQL at %s: %w (is the server up and reachable from this host? check the address in mysql.dsn: %s)", s.addr, err, SocketHint)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// RedactDSN returns dsn with its password replaced by ***, for logs and messages. It splits
// the DSN as go-sql-driver does ([user[:password]@][net[(addr)]]/dbname[?params]), so it also
// redacts a password holding '@', ':' or '/'.
func RedactDSN(dsn string) string {
	end := strings.LastIndexByte(dsn, '/')
	if end < 0 {
		end = len(dsn)
	}
	at := strings.LastIndexByte(dsn[:end], '@')
	if at < 0 {
		return dsn
	}
	colon := strings.IndexByte(dsn[:at], ':')
	if colon < 0 {
		return dsn
	}
	return dsn[:colon+1] + "***" + dsn[at:]
}
