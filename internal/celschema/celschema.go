// Package celschema holds FreePBX's definition of the cel table (asteriskcdrdb.cel, FreePBX
// 17), the one copy the tests, the load generator and the benchmark create their tables from.
package celschema

import _ "embed"

// DDL is the CREATE TABLE statement of FreePBX's cel table.
//
//go:embed cel.sql
var DDL string
