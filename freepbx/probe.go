package freepbx

import (
	"context"
	"database/sql"
	"fmt"
)

// Status is whether one table of Tables can be read, and if not, why.
type Status struct {
	Table Table
	Err   error // nil: readable
}

// Probe tries each table of Tables the way Read selects it, reading no rows. An error that is
// not about one table (the server is gone) is returned.
func Probe(ctx context.Context, db *sql.DB, schema string) ([]Status, error) {
	var out []Status
	for _, t := range Tables {
		err := selectNothing(ctx, db, schema, t.Name, t.Columns)
		if err != nil && !Unreadable(err) {
			return out, fmt.Errorf("probe %s.%s: %w", schema, t.Name, err)
		}
		out = append(out, Status{Table: t, Err: err})
	}
	return out, nil
}

// ReadableSecrets returns the tables of SecretTables this user can read (it must not).
func ReadableSecrets(ctx context.Context, db *sql.DB, schema string) []string {
	var out []string
	for _, t := range SecretTables {
		if selectNothing(ctx, db, schema, t, nil) == nil {
			out = append(out, t)
		}
	}
	return out
}

// selectNothing runs a SELECT of cols (1 when none) from schema.table that returns no rows.
func selectNothing(ctx context.Context, db *sql.DB, schema, table string, cols []string) error {
	rows, err := db.QueryContext(ctx, selectSQL(schema, table, cols)+" LIMIT 0")
	if err != nil {
		return err
	}
	return rows.Close()
}
