package mapper

import "testing"

func TestStripOutbound(t *testing.T) {
	tests := []struct {
		prefixes []string
		in, want string
	}{
		{[]string{"9|0XXXXXXXXX"}, "90671234567", "0671234567"},
		{[]string{"9|0XXXXXXXXX"}, "911", "911"},                // another route, no prefix
		{[]string{"9|0XXXXXXXXX"}, "9067123456", "9067123456"},  // one digit short
		{[]string{"9"}, "911", "11"},                            // a bare prefix strips from anything
		{[]string{"9"}, "9", "9"},                               // nothing would be left
		{[]string{"9|.", "99|00."}, "99003712345", "003712345"}, // longest prefix that matches
		{[]string{"9|.", "99|00."}, "9912345", "912345"},        // 99 does not match: 9 does
		{[]string{"0|[1-5]XX"}, "0112", "112"},
		{[]string{"0|[1-5]XX"}, "0712", "0712"},
		{[]string{"0|[137-9]X"}, "082", "82"},
		{[]string{"0|[137-9]X"}, "052", "052"},
		{[]string{"8|ZXXXXX!"}, "81234567", "1234567"},
		{[]string{"8|NXX"}, "8123", "8123"},
		{nil, "0671234567", "0671234567"},
	}
	for _, tt := range tests {
		var cfg Config
		for _, p := range tt.prefixes {
			op, err := ParseOutboundPrefix(p)
			if err != nil {
				t.Fatalf("ParseOutboundPrefix(%q): %v", p, err)
			}
			cfg.OutboundPrefixes = append(cfg.OutboundPrefixes, op)
		}
		if got, _ := cfg.stripOutbound(tt.in); got != tt.want {
			t.Errorf("%q: stripOutbound(%q) = %q, want %q", tt.prefixes, tt.in, got, tt.want)
		}
	}
}

func TestParseOutboundPrefix_Errors(t *testing.T) {
	for _, s := range []string{"", "x", "9|", "9|0XY", "9|[1-5", "9|[]", "|0X", "9|0[9-0]X", "9|0[5-]X", "9|0[-5]X", "9|0[*]X"} {
		if _, err := ParseOutboundPrefix(s); err == nil {
			t.Errorf("ParseOutboundPrefix(%q) accepted", s)
		}
	}
}

// TestOutboundRoutes: FreePBX's routes in route order, the first matching dial pattern strips
// its prefix and prepends (the sample clinic: route 1 sends 0XXXXXXXXX as dialled, route 2
// strips the 9 of 9|0XXXXXXXXX); the config file's prefixes come first.
func TestOutboundRoutes(t *testing.T) {
	type route struct{ prepend, prefix, match string }
	tests := []struct {
		routes   []route
		prefixes []string
		in, want string
	}{
		{[]route{{"", "", "0XXXXXXXXX"}, {"", "9", "0XXXXXXXXX"}}, nil, "0671234567", "0671234567"},
		{[]route{{"", "", "0XXXXXXXXX"}, {"", "9", "0XXXXXXXXX"}}, nil, "90671234567", "0671234567"},
		{[]route{{"", "9", "."}, {"", "90", "."}}, nil, "90671234567", "0671234567"}, // route order, not the longest
		{[]route{{"+38", "9", "0XXXXXXXXX"}}, nil, "90671234567", "+380671234567"},
		{[]route{{"", "[89]", "0XXXXXXXXX"}}, nil, "80671234567", "0671234567"}, // a set is one digit
		{[]route{{"", "9", "0XXXXXXXXX"}}, nil, "0671234567", "0671234567"},     // no route matches
		{[]route{{"", "9", "."}}, []string{"99"}, "990671234567", "0671234567"}, // the file's prefix first
	}
	for _, tt := range tests {
		var cfg Config
		for _, r := range tt.routes {
			or, err := ParseOutboundRoute(r.prepend, r.prefix, r.match, "test")
			if err != nil {
				t.Fatalf("ParseOutboundRoute(%q): %v", r, err)
			}
			cfg.OutboundRoutes = append(cfg.OutboundRoutes, or)
		}
		for _, p := range tt.prefixes {
			op, _ := ParseOutboundPrefix(p)
			cfg.OutboundPrefixes = append(cfg.OutboundPrefixes, op)
		}
		if got, _ := cfg.stripOutbound(tt.in); got != tt.want {
			t.Errorf("routes %q, prefixes %q: stripOutbound(%q) = %q, want %q", tt.routes, tt.prefixes, tt.in, got, tt.want)
		}
	}
	for _, bad := range [][3]string{{"x", "", "."}, {"", "9", "0XY"}, {"", "[", "."}} {
		if _, err := ParseOutboundRoute(bad[0], bad[1], bad[2], ""); err == nil {
			t.Errorf("ParseOutboundRoute(%q) accepted", bad)
		}
	}
}
