package freepbx

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Table is a configuration table celbridge reads: the columns it selects (always by name:
// column grants keep the password columns out, and SELECT * fails under them) and the grant
// that allows exactly that (asterisk-config.md).
type Table struct {
	Name    string
	Columns []string
	// GrantColumns, when set, is the column list of the grant (the table holds a secret).
	GrantColumns []string
	// Gives says in words what celbridge does with the table.
	Gives string
}

// Tables are the tables Read reads, in the order check shows them.
var Tables = []Table{
	{Name: "users", Columns: []string{"extension", "name"}, GrantColumns: []string{"extension", "name", "voicemail", "outboundcid"}, Gives: "employee names"},
	{Name: "devices", Columns: []string{"dial", "user"}, Gives: "which channels are phones"},
	{Name: "incoming", Columns: []string{"extension", "description"}, Gives: "DID descriptions"},
	{Name: "trunks", Columns: []string{"channelid", "disabled", "outcid"}, Gives: "which channels are trunks, the clinic's number on each"},
	{Name: "outbound_routes", Columns: []string{"route_id", "name"}, GrantColumns: []string{"route_id", "name", "outcid", "outcid_mode", "emergency_route", "intracompany_route"}, Gives: "outbound route names"},
	{Name: "outbound_route_patterns", Columns: []string{"route_id", "match_pattern_prefix", "match_pattern_pass", "match_cid", "prepend_digits"}, Gives: "the number an outgoing call sends (prefix strip, prepend)"},
	{Name: "outbound_route_sequence", Columns: []string{"route_id", "seq"}, Gives: "the order FreePBX tries routes in"},
	{Name: "ringgroups", Columns: []string{"grpnum", "grplist", "description"}, Gives: "ring groups: internalNumber = the group"},
	{Name: "queues_config", Columns: []string{"extension", "descr"}, GrantColumns: []string{"extension", "descr", "grppre", "dest"}, Gives: "queue names"},
	{Name: "queues_details", Columns: []string{"id", "keyword", "data"}, Gives: "static queue members"},
	{Name: "findmefollow", Columns: []string{"grpnum", "grplist"}, Gives: "follow-me mobiles: the mobile leg belongs to its employee"},
	{Name: "parkplus", Columns: []string{"defaultlot", "parkext", "parkpos", "numslots"}, Gives: "parking lot numbers"},
}

// SecretTables hold passwords (asterisk-config.md, "Never grant"): the user must not be able
// to read them.
var SecretTables = []string{"sip", "pjsip", "iax", "ampusers", "userman_users", "manager", "arimanager",
	"freepbx_settings", "cidlookup", "api_applications", "certman_cas", "pinsets", "vmblast"}

// Grant is the GRANT statement that lets user (as SELECT CURRENT_USER() names it,
// "celbridge@localhost") read t in database schema.
func (t Table) Grant(schema, user string) string {
	cols := ""
	if len(t.GrantColumns) > 0 {
		cols = " (" + strings.Join(t.GrantColumns, ", ") + ")"
	}
	return fmt.Sprintf("GRANT SELECT%s ON %s.%s TO %s;", cols, quoteIdent(schema), t.Name, QuoteAccount(user))
}

// QuoteAccount writes an account as CURRENT_USER() names it ("celbridge@localhost") the way
// GRANT does ('celbridge'@'localhost'); the host is after the last @. Text without @ is
// returned as it is.
func QuoteAccount(account string) string {
	i := strings.LastIndexByte(account, '@')
	if i < 0 {
		return account
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	return q(account[:i]) + "@" + q(account[i+1:])
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// schemaName is what freepbx.database may hold.
var schemaName = regexp.MustCompile(`^[A-Za-z0-9_$]{1,64}$`)

// CheckSchema validates freepbx.database.
func CheckSchema(schema string) error {
	if !schemaName.MatchString(schema) {
		return fmt.Errorf("%q is not a database name (write it like \"asterisk\")", schema)
	}
	return nil
}

// Read reads every table of Tables from database schema. A table the user cannot read is left
// out (Config.Missing says why); an error that is not about one table (the server is down, the
// context ended) is returned and no Config.
func Read(ctx context.Context, db *sql.DB, schema string) (*Config, error) {
	c := &Config{Names: map[string]string{}, Devices: map[string]string{}, DIDs: map[string]string{}, TrunkCIDs: map[string]string{},
		FollowMe: map[string][]string{}, Missing: map[string]error{}}
	var routeNames map[string]string
	var seq map[string]int
	for _, t := range Tables {
		rows, err := query(ctx, db, schema, t)
		if err != nil {
			if Unreadable(err) {
				c.Missing[t.Name] = err
				continue
			}
			return nil, fmt.Errorf("read %s.%s: %w", schema, t.Name, err)
		}
		c.Read = append(c.Read, t.Name)
		switch t.Name {
		case "users":
			for _, r := range rows {
				c.Names[r[0]] = r[1]
			}
		case "devices":
			for _, r := range rows {
				c.Devices[r[0]] = r[1]
			}
		case "incoming":
			for _, r := range rows {
				if r[0] != "" {
					c.DIDs[r[0]] = r[1]
				}
			}
		case "trunks":
			for _, r := range rows {
				if r[0] != "" && r[1] != "on" {
					c.Trunks = append(c.Trunks, r[0])
					if r[2] != "" {
						c.TrunkCIDs[r[0]] = r[2]
					}
				}
			}
		case "outbound_routes":
			routeNames = map[string]string{}
			for _, r := range rows {
				routeNames[r[0]] = r[1]
			}
		case "outbound_route_patterns":
			for _, r := range rows {
				c.Routes = append(c.Routes, Route{RouteID: r[0], Prefix: r[1], Match: r[2], CIDMatch: r[3], Prepend: r[4]})
			}
		case "outbound_route_sequence":
			seq = map[string]int{}
			for _, r := range rows {
				seq[r[0]], _ = strconv.Atoi(r[1])
			}
		case "ringgroups":
			for _, r := range rows {
				exts, ext := splitList(r[1])
				c.RingGroups = append(c.RingGroups, Group{Number: r[0], Description: r[2], Members: exts, External: ext})
			}
		case "queues_config":
			for _, r := range rows {
				c.Queues = append(c.Queues, Group{Number: r[0], Description: r[1]})
			}
		case "queues_details":
			c.queueMembers(rows)
		case "findmefollow":
			for _, r := range rows {
				if _, ext := splitList(r[1]); len(ext) > 0 {
					c.FollowMe[r[0]] = ext
				}
			}
		case "parkplus":
			c.parking(rows)
		}
	}
	c.orderRoutes(routeNames, seq)
	return c, nil
}

// query selects t's columns, every value as text ("" for NULL).
func query(ctx context.Context, db *sql.DB, schema string, t Table) ([][]string, error) {
	rs, err := db.QueryContext(ctx, selectSQL(schema, t.Name, t.Columns))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out [][]string
	vals := make([]sql.NullString, len(t.Columns))
	ptrs := make([]any, len(t.Columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(t.Columns))
		for i, v := range vals {
			row[i] = strings.TrimSpace(v.String)
		}
		out = append(out, row)
		if len(out) > maxRows {
			return nil, fmt.Errorf("more than %d rows: not a clinic's configuration", maxRows)
		}
	}
	return out, rs.Err()
}

// selectSQL is SELECT of cols (1 when none) from schema.table, every name quoted.
func selectSQL(schema, table string, cols []string) string {
	what := "1"
	if len(cols) > 0 {
		q := make([]string, len(cols))
		for i, c := range cols {
			q[i] = quoteIdent(c)
		}
		what = strings.Join(q, ", ")
	}
	return "SELECT " + what + " FROM " + quoteIdent(schema) + "." + quoteIdent(table)
}

// maxRows bounds one table: a clinic has tens of extensions, not millions.
const maxRows = 100000

// queueMembers reads the static members of queues (queues_details keyword member, data
// "Local/801@from-queue/n,0" or "PJSIP/801,0").
func (c *Config) queueMembers(rows [][]string) {
	members := map[string][]string{}
	for _, r := range rows {
		if r[1] != "member" {
			continue
		}
		iface, _, _ := strings.Cut(r[2], ",")
		_, res, _ := strings.Cut(iface, "/")
		res, _, _ = strings.Cut(res, "@")
		res, _, _ = strings.Cut(res, "/")
		if res != "" {
			members[r[0]] = append(members[r[0]], res)
		}
	}
	for i := range c.Queues {
		c.Queues[i].Members = members[c.Queues[i].Number]
	}
}

// parking reads the default lot: its extension and slots.
func (c *Config) parking(rows [][]string) {
	for _, r := range rows {
		if r[0] != "yes" && len(rows) > 1 {
			continue
		}
		c.ParkExt = r[1]
		first, err1 := strconv.Atoi(r[2])
		n, err2 := strconv.Atoi(r[3])
		if err1 == nil && err2 == nil && n > 0 && n <= 1000 {
			for k := range n {
				c.Slots = append(c.Slots, strconv.Itoa(first+k))
			}
		}
		return
	}
}

// orderRoutes puts the dial patterns in FreePBX's route order (outbound_route_sequence; by
// route id without it) and names them.
func (c *Config) orderRoutes(names map[string]string, seq map[string]int) {
	rank := func(id string) int {
		if s, ok := seq[id]; ok {
			return s
		}
		n, _ := strconv.Atoi(id)
		return 1<<20 + n
	}
	slices.SortStableFunc(c.Routes, func(a, b Route) int { return cmp.Compare(rank(a.RouteID), rank(b.RouteID)) })
	for i := range c.Routes {
		c.Routes[i].Name = cmp.Or(names[c.Routes[i].RouteID], "#"+c.Routes[i].RouteID)
	}
}
