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
		if got := cfg.stripOutbound(tt.in); got != tt.want {
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
