package freepbx

import (
	"cmp"
	"context"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"
)

// A wire connection runs one kind of statement, a text-protocol SELECT, and reads its result
// set itself: backfill's streaming read of a CEL id range. go-sql-driver opens and
// authenticates the connection (every auth plugin, the charset, the DSN's session settings);
// then celbridge writes the COM_QUERY and parses the rows straight out of its read buffer.
// The driver hands each column to its caller boxed in a driver.Value, an allocation per
// column (19 a row), which was 40% of a backfill's CPU (BENCHMARKS.md); here a row costs no
// allocation. Nothing else uses the connection while a query runs, and it is closed after it.
//
// Only plain connections qualify: with TLS the driver's socket carries ciphertext, so TLS
// DSNs (and custom networks the driver dials itself) read through the driver as before
// (wireCapable). Compression is turned off on the wire connection.
type wire struct {
	dc   driver.Conn  // the driver's connection, for Close (COM_QUIT)
	conn net.Conn     // its socket
	r    packetReader // its timeout is also the query write's
}

// wireCapable says whether cfg's connections can be read on the wire.
func wireCapable(cfg *mysql.Config) bool {
	return cfg.TLS == nil && cfg.DialFunc == nil && (cfg.Net == "tcp" || cfg.Net == "unix")
}

// openWire opens one connection with cfg (see wireCapable) and keeps its socket.
func openWire(ctx context.Context, cfg *mysql.Config) (*wire, error) {
	cfg = cfg.Clone()
	if err := cfg.Apply(mysql.EnableCompression(false)); err != nil {
		return nil, err
	}
	var sock net.Conn
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		sock = c
		return c, err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := conn.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if sock == nil { // not dialled through DialFunc: not ours to read
		dc.Close()
		return nil, errors.New("the MySQL driver did not dial through celbridge")
	}
	// Each read's and write's deadline is the driver's readTimeout.
	r := packetReader{conn: sock, buf: make([]byte, 64<<10), timeout: cmp.Or(cfg.ReadTimeout, ioTimeout)}
	return &wire{dc: dc, conn: sock, r: r}, nil
}

// Close ends the session (COM_QUIT when the connection is clean) and closes the socket.
func (w *wire) Close() error {
	return w.dc.Close()
}

// query runs q, a SELECT of ncol columns, and calls row for each row with its columns (a NULL
// is nil). The slices are valid until row returns. An error from row stops the read and is
// returned as it is; the connection is then unusable and must be closed. A server error is a
// *mysql.MySQLError, as the driver returns it. When ctx ends, the socket's deadline passes, so
// that a blocked read returns, and query returns ctx's error (whatever else failed).
func (w *wire) query(ctx context.Context, q string, ncol int, row func(cols [][]byte) error) error {
	stop := context.AfterFunc(ctx, func() { w.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	w.r.ctx = ctx
	defer func() { w.r.ctx = nil }()
	err := w.run(q, ncol, row)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

const (
	comQuery       = 0x03
	maxPayloadSize = 1<<24 - 1
	hdrOK          = 0x00
	hdrLocalInFile = 0xfb
	hdrEOF         = 0xfe
	hdrErr         = 0xff
	lenencNull     = 0xfb
	// A column definition's first field, its catalog, is always "def".
	colDefPrefix = "\x03def"
)

func (w *wire) run(q string, ncol int, row func(cols [][]byte) error) error {
	if len(q)+1 >= maxPayloadSize {
		return errors.New("query too long")
	}
	pkt := make([]byte, 4, 5+len(q))
	binary.LittleEndian.PutUint32(pkt, uint32(len(q)+1)) // the 4th byte, the sequence, is 0
	pkt = append(append(pkt, comQuery), q...)
	w.conn.SetWriteDeadline(time.Now().Add(w.r.timeout))
	if _, err := w.conn.Write(pkt); err != nil {
		return fmt.Errorf("send query: %w", err)
	}
	w.r.seq = 1

	// Result set: a column count, the column definitions (MariaDB may leave them out when
	// the client caches metadata), an EOF unless the session deprecates it, the rows, then an
	// EOF or an OK packet whose header is 0xfe.
	p, err := w.r.next()
	if err != nil {
		return err
	}
	switch {
	case len(p) == 0:
		return errMalformed("empty response")
	case p[0] == hdrErr:
		return serverError(p)
	case p[0] == hdrOK:
		return errMalformed("the statement returned no result set")
	case p[0] == hdrLocalInFile:
		return errMalformed("the server asked for a local file") // never for a SELECT; refused
	}
	n, _, ok := lenencInt(p)
	if !ok || n != uint64(ncol) {
		return fmt.Errorf("query returned %d columns, want %d", n, ncol)
	}
	if p, err = w.r.next(); err != nil {
		return err
	}
	if len(p) >= len(colDefPrefix) && string(p[:len(colDefPrefix)]) == colDefPrefix {
		for range ncol { // the definitions: skipped, the caller knows its columns
			if p, err = w.r.next(); err != nil {
				return err
			}
		}
	}
	if len(p) == 5 && p[0] == hdrEOF { // the EOF after the definitions (no DEPRECATE_EOF)
		if p, err = w.r.next(); err != nil {
			return err
		}
	}
	cols := make([][]byte, ncol)
	for {
		switch {
		case len(p) == 0:
			return errMalformed("empty row")
		case p[0] == hdrErr:
			return serverError(p)
		case p[0] == hdrEOF && len(p) < maxPayloadSize:
			// The end. A row cannot start with 0xfe here: that would be a first column (the
			// id) of over 16 MiB.
			return nil
		}
		if err := splitRow(p, cols); err != nil {
			return err
		}
		if err := row(cols); err != nil {
			return err
		}
		if p, err = w.r.next(); err != nil {
			return err
		}
	}
}

// splitRow splits a text-protocol row into its columns: length-encoded strings, or 0xfb for
// NULL. cols' slices point into p.
func splitRow(p []byte, cols [][]byte) error {
	for i := range cols {
		if len(p) == 0 {
			return errMalformed("row ends before column %d", i+1)
		}
		if p[0] == lenencNull {
			cols[i], p = nil, p[1:]
			continue
		}
		n, k, ok := lenencInt(p)
		if !ok || uint64(len(p)-k) < n {
			return errMalformed("column %d runs past its row", i+1)
		}
		cols[i], p = p[k:k+int(n):k+int(n)], p[k+int(n):]
	}
	if len(p) != 0 {
		return errMalformed("%d bytes after the last column", len(p))
	}
	return nil
}

// lenencInt reads a length-encoded integer: its value and size.
func lenencInt(p []byte) (v uint64, size int, ok bool) {
	if len(p) == 0 {
		return 0, 0, false
	}
	switch p[0] {
	case 0xfc:
		if len(p) < 3 {
			return 0, 0, false
		}
		return uint64(binary.LittleEndian.Uint16(p[1:])), 3, true
	case 0xfd:
		if len(p) < 4 {
			return 0, 0, false
		}
		return uint64(p[1]) | uint64(p[2])<<8 | uint64(p[3])<<16, 4, true
	case 0xfe:
		if len(p) < 9 {
			return 0, 0, false
		}
		return binary.LittleEndian.Uint64(p[1:]), 9, true
	case 0xfb, 0xff:
		return 0, 0, false
	}
	return uint64(p[0]), 1, true
}

// serverError turns an ERR packet into the driver's error type, so that callers' hints
// (explain) see the same error numbers either way.
func serverError(p []byte) error {
	if len(p) < 3 {
		return errMalformed("short error packet")
	}
	me := &mysql.MySQLError{Number: binary.LittleEndian.Uint16(p[1:3])}
	msg := p[3:]
	if len(msg) >= 6 && msg[0] == '#' {
		copy(me.SQLState[:], msg[1:6])
		msg = msg[6:]
	}
	me.Message = string(msg)
	return me
}

func errMalformed(format string, args ...any) error {
	return fmt.Errorf("malformed MySQL packet: "+format, args...)
}

// packetReader reads MySQL packets from conn through one buffer. A payload returned by next
// points into the buffer and is valid until the following call.
type packetReader struct {
	ctx     context.Context // the query's: checked after each deadline is set (see wire.query)
	conn    net.Conn
	buf     []byte
	r, w    int // buf[r:w] is read and not yet returned
	seq     byte
	timeout time.Duration
	joined  []byte // a payload split over several maximal packets, put together
}

func (p *packetReader) next() ([]byte, error) {
	p.joined = p.joined[:0]
	for {
		payload, err := p.packet()
		if err != nil {
			return nil, err
		}
		if len(payload) < maxPayloadSize && len(p.joined) == 0 {
			return payload, nil
		}
		p.joined = append(p.joined, payload...)
		if len(payload) < maxPayloadSize {
			return p.joined, nil
		}
	}
}

// packet returns the next packet's payload.
func (p *packetReader) packet() ([]byte, error) {
	for {
		if avail := p.w - p.r; avail >= 4 {
			size := int(p.buf[p.r]) | int(p.buf[p.r+1])<<8 | int(p.buf[p.r+2])<<16
			if avail >= 4+size {
				if seq := p.buf[p.r+3]; seq != p.seq {
					return nil, errMalformed("packet %d arrived where %d was due", seq, p.seq)
				}
				p.seq++
				payload := p.buf[p.r+4 : p.r+4+size : p.r+4+size]
				p.r += 4 + size
				return payload, nil
			}
			if need := 4 + size; need > len(p.buf) {
				grown := make([]byte, max(need, 2*len(p.buf)))
				p.w = copy(grown, p.buf[p.r:p.w])
				p.buf, p.r = grown, 0
			}
		}
		if p.r > 0 { // move what is left to the front for the next read
			p.w = copy(p.buf, p.buf[p.r:p.w])
			p.r = 0
		}
		p.conn.SetReadDeadline(time.Now().Add(p.timeout))
		// A cancel after this check passes the deadline after this one was set.
		if p.ctx != nil && p.ctx.Err() != nil {
			return nil, p.ctx.Err()
		}
		n, err := p.conn.Read(p.buf[p.w:])
		p.w += n
		if err != nil && n == 0 {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("read from MySQL: %w", err)
		}
	}
}
