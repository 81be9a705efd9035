package freepbx

import (
	"regexp"
	"strings"
)

// writePrivs are the privileges that let an account change the CEL table or its rows.
var writePrivs = regexp.MustCompile(`\b(ALL PRIVILEGES|ALL|INSERT|UPDATE|DELETE|DROP|ALTER|TRIGGER)\b`)

// columnList is the column list of a column-level grant: SELECT (`id`, `eventtype`).
var columnList = regexp.MustCompile(`\([^)]*\)`)

// grantLine matches "GRANT <privileges> ON <db>.<table> TO …" of SHOW GRANTS.
var grantLine = regexp.MustCompile("^GRANT (.+?) ON (\\*|`(?:[^`]|``)*`)\\.(\\*|`(?:[^`]|``)*`) TO ")

// grantWrites returns "INSERT, UPDATE ON `db`.*" when the SHOW GRANTS line g gives write
// privileges on db.table, or "".
func grantWrites(g, db, table string) string {
	m := grantLine.FindStringSubmatch(g)
	if m == nil {
		return ""
	}
	if !identMatches(m[2], db, true) || !identMatches(m[3], table, false) {
		return ""
	}
	privs := writePrivs.FindAllString(stripColumns(m[1]), -1)
	if len(privs) == 0 {
		return ""
	}
	return strings.Join(privs, ", ") + " ON " + m[2] + "." + m[3]
}

// stripColumns drops column lists: "SELECT (id), UPDATE (x)" keeps the privilege names.
func stripColumns(privs string) string {
	return columnList.ReplaceAllString(privs, "")
}

// identMatches reports whether a GRANT's db or table part (* or `name`) covers name. Database
// names in grants may hold LIKE wildcards (% and _, \ escaping them); table names may not.
func identMatches(part, name string, wildcards bool) bool {
	if part == "*" {
		return true
	}
	// grantLine matched `…` with doubled backticks inside: unquote exactly those.
	ident := strings.ReplaceAll(part[1:len(part)-1], "``", "`")
	if !wildcards {
		return strings.EqualFold(ident, name)
	}
	var re strings.Builder
	re.WriteString("(?is)^") // _ and % match a newline too, as LIKE does
	escaped := false
	for _, r := range ident { // by character: _ is one character, not one byte
		switch {
		case escaped:
			re.WriteString(regexp.QuoteMeta(string(r)))
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%':
			re.WriteString(".*")
		case r == '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if escaped { // a trailing backslash stands for itself
		re.WriteString(regexp.QuoteMeta(`\`))
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(name)
}
