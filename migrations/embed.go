// Package migrations holds the schema of celbridge's local state file (never the FreePBX
// database). Each NNNN_name.sql file is applied once, in name order, by store.Open.
package migrations

import "embed"

// FS holds every migration, *.sql at its root.
//
//go:embed *.sql
var FS embed.FS
