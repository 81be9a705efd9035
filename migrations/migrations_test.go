package migrations_test

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/celbridge/celbridge/migrations"
)

// TestFS checks that the embedded migrations exist and are named NNNN_name.sql, the order
// store applies them in.
func TestFS(t *testing.T) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 || names[0] != "0001_init.sql" {
		t.Fatalf("migrations = %v, want 0001_init.sql first", names)
	}
	valid := regexp.MustCompile(`^[0-9]{4}_[a-z0-9_]+\.sql$`)
	for i, name := range names {
		if !valid.MatchString(name) {
			t.Errorf("migration %q: name it NNNN_words.sql", name)
		}
		if i > 0 && name[:4] == names[i-1][:4] {
			t.Errorf("migrations %q and %q share a number", names[i-1], name)
		}
	}
}
