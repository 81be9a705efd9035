package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"
)

// migrate applies every *.sql of fsys not yet recorded in schema_migrations, in name order,
// each in its own transaction together with its record. It refuses a SQLite file that has
// tables but no schema_migrations (some other program's database), and one migrated by a
// newer celbridge.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, now time.Time) error {
	names, err := migrationNames(fsys)
	if err != nil {
		return err
	}
	if err := createMigrationsTable(ctx, db); err != nil {
		return err
	}
	for _, name := range names {
		if err := applyMigration(ctx, db, fsys, name, now); err != nil {
			return fmt.Errorf("apply migration %s: %w", name, err)
		}
	}
	return checkSchema(ctx, db, fsys)
}

func migrationNames(fsys fs.FS) ([]string, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

func createMigrationsTable(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	var ours, others int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE name = 'schema_migrations'), count(*)
		FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).Scan(&ours, &others)
	if err != nil {
		return fmt.Errorf("read schema: %w (is it a celbridge state file? check store.path)", err)
	}
	if ours == 0 && others > 0 {
		return errors.New("file has tables but no schema_migrations: not a celbridge state file (check store.path)")
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// applyMigration applies one migration unless it is recorded. The check is inside the
// (IMMEDIATE) transaction, so two processes opening a new file at once apply it once.
func applyMigration(ctx context.Context, db *sql.DB, fsys fs.FS, name string, now time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	var done int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&done)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if done > 0 {
		return nil
	}
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("read file: %w", err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("execute: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
		name, now.UnixMilli()); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// checkSchema reports whether the applied migrations are exactly those of fsys.
func checkSchema(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	want, err := migrationNames(fsys)
	if err != nil {
		return err
	}
	got, err := appliedMigrations(ctx, db)
	if err != nil {
		return err
	}
	for _, name := range got {
		if !slices.Contains(want, name) {
			return fmt.Errorf("migration %s was applied by a newer celbridge "+
				"(upgrade celbridge, or point store.path elsewhere)", name)
		}
	}
	for _, name := range want {
		if !slices.Contains(got, name) {
			return fmt.Errorf("migration %s is not applied yet (start the daemon once to migrate the store)", name)
		}
	}
	return nil
}

func appliedMigrations(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w (is it a celbridge state file? check store.path)", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return names, nil
}
