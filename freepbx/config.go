// Package freepbx reads FreePBX's own configuration database (`asterisk`) with the
// SELECT-only user celbridge reads CEL with: ring groups and queues with their members,
// outbound routes (to strip and prepend as FreePBX does), follow-me lists, trunks, employee
// names and DID descriptions. What a clinic's admin set up in FreePBX's GUI thus reaches the
// CRM without being repeated in celbridge.toml. Every table is optional: without its grant
// (or on an older FreePBX, or plain Asterisk) that table is left out and the rest is used.
// Nothing is ever written. The tables, their encodings and the column-level GRANT are
// described in ../shared/testdata/freepbx/asterisk-config.md.
package freepbx

import (
	"fmt"
	"sort"
	"strings"

	"github.com/celbridge/celbridge/mapper"
)

// Config is what FreePBX's configuration says, as celbridge uses it.
type Config struct {
	// Names maps an extension to its user's name (users.name).
	Names map[string]string
	// Devices maps a device's dial string ("PJSIP/801") to its user's extension.
	Devices map[string]string
	// DIDs maps an inbound route's DID to its description (incoming).
	DIDs map[string]string
	// Trunks are the trunks' channel ids ("kyivstar" for PJSIP/kyivstar-…), enabled ones;
	// TrunkCIDs their outbound caller IDs (the clinic's number on each).
	Trunks    []string
	TrunkCIDs map[string]string
	// Routes are the outbound routes' dial patterns in FreePBX's route order.
	Routes []Route
	// RingGroups and Queues are numbers with the extensions they ring.
	RingGroups, Queues []Group
	// FollowMe maps an extension to the outside numbers on its follow-me list.
	FollowMe map[string][]string
	// ParkExt is the default parking lot's extension ("70"), Slots its slot numbers.
	ParkExt string
	Slots   []string
	// Read lists the tables read; Missing the tables left out and why (a missing grant, an
	// older FreePBX).
	Read    []string
	Missing map[string]error
}

// Group is a ring group or queue.
type Group struct {
	Number, Description string
	// Members are the extensions it rings; External the outside numbers (a ring group
	// entry ending in #).
	Members, External []string
}

// Route is one dial pattern of an outbound route.
type Route struct {
	RouteID, Name                    string
	Prepend, Prefix, Match, CIDMatch string
}

// MapperConfig returns base (built from celbridge.toml) with what FreePBX's configuration
// adds: its ring groups (a group the file names stays as the file has it), its outbound routes
// (tried after the file's outbound_prefixes), its follow-me lists, and which channels are
// phones (devices) and trunks. Routes FreePBX has and
// celbridge cannot read (a bad pattern) are left out and returned as errors.
func (c *Config) MapperConfig(base mapper.Config) (mapper.Config, []error) {
	if c == nil {
		return base, nil
	}
	var errs []error
	m := base
	m.Groups = append([]mapper.Group(nil), base.Groups...)
	inFile := map[string]bool{}
	for _, g := range base.Groups {
		inFile[g.Number] = true
	}
	for _, g := range c.RingGroups {
		if inFile[g.Number] || len(g.Members) == 0 {
			continue
		}
		src := "FreePBX ring group " + g.Number
		if g.Description != "" {
			src += " (" + g.Description + ")"
		}
		m.Groups = append(m.Groups, mapper.Group{Number: g.Number, Members: g.Members, Source: src})
	}
	m.OutboundRoutes = nil
	for _, r := range c.Routes {
		if r.CIDMatch != "" {
			continue // for some callers only: the number alone does not tell
		}
		or, err := mapper.ParseOutboundRoute(r.Prepend, r.Prefix, r.Match, "FreePBX outbound route "+r.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("outbound route %s (%s) pattern %s|%s: %w", r.RouteID, r.Name, r.Prefix, r.Match, err))
			continue
		}
		m.OutboundRoutes = append(m.OutboundRoutes, or)
	}
	if len(c.Devices) > 0 {
		m.Devices = c.Devices
	}
	if len(c.Trunks) > 0 {
		m.Trunks = map[string]bool{}
		for _, t := range c.Trunks {
			m.Trunks[t] = true
		}
	}
	if len(c.FollowMe) > 0 {
		m.FollowMe = map[string]string{}
		for ext, nums := range c.FollowMe {
			for _, n := range nums {
				m.FollowMe[n] = ext
			}
		}
	}
	return m, errs
}

// Summary is one line for the log: what was read.
func (c *Config) Summary() string {
	if c == nil {
		return "not read"
	}
	routes := map[string]bool{}
	for _, r := range c.Routes {
		routes[r.RouteID] = true
	}
	return fmt.Sprintf("%d extensions, %d ring groups, %d queues, %d outbound routes, %d follow-me lists, %d trunks, %d DIDs",
		len(c.Names), len(c.RingGroups), len(c.Queues), len(routes), len(c.FollowMe), len(c.Trunks), len(c.DIDs))
}

// MissingTables returns the tables left out, sorted.
func (c *Config) MissingTables() []string {
	var out []string
	for t := range c.Missing {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// splitList splits a FreePBX '-' separated list ("801-802-0961112233#") into extensions and
// outside numbers (an entry ending in # is dialled as an outside number).
func splitList(list string) (exts, external []string) {
	for _, e := range strings.Split(list, "-") {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case strings.HasSuffix(e, "#"):
			external = append(external, strings.TrimSuffix(e, "#"))
		default:
			exts = append(exts, e)
		}
	}
	return exts, external
}
