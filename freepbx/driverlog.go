package freepbx

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"
)

// driverLogger passes go-sql-driver/mysql's own log lines ("closing bad idle connection:
// unexpected read from socket", "could not use requested auth plugin …") to slog, instead of
// the driver's unstructured "[mysql] …" lines on stderr.
type driverLogger struct{ l atomic.Pointer[slog.Logger] }

var (
	driverLog     driverLogger
	driverLogOnce sync.Once
)

// LogDriverTo sends the MySQL driver's log lines to l: level WARN, message "mysql driver", the
// driver's text under err. It applies to the DSNs parsed afterwards, so call it before
// OpenCEL; a later call only changes l.
func LogDriverTo(l *slog.Logger) {
	driverLog.l.Store(l)
	driverLogOnce.Do(func() { _ = mysql.SetLogger(&driverLog) }) // the driver's global, set once
}

// Print implements mysql.Logger.
func (d *driverLogger) Print(v ...any) {
	if l := d.l.Load(); l != nil {
		l.Warn("mysql driver", "err", strings.TrimSpace(fmt.Sprint(v...)))
	}
}
