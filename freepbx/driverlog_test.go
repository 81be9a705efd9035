package freepbx

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestLogDriverTo: a DSN parsed after LogDriverTo logs the driver's messages through slog.
func TestLogDriverTo(t *testing.T) {
	var buf bytes.Buffer
	LogDriverTo(slog.New(slog.NewTextHandler(&buf, nil)).With("component", "mysql"))
	cfg, err := mysql.ParseDSN("celbridge:pw@unix(/run/mysqld/mysqld.sock)/asteriskcdrdb")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Print("closing bad idle connection: ", errors.New("unexpected read from socket"))
	got := buf.String()
	want := `level=WARN msg="mysql driver" component=mysql err="closing bad idle connection: unexpected read from socket"`
	if !strings.Contains(got, want) {
		t.Errorf("logged %q, want a line with %s", got, want)
	}
}
