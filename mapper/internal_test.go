package mapper

import "testing"

// TestInternalCallRingingOutside: an internal call whose destination rings an outside number
// through a Local helper (a ring group with a mobile member; an extension forwarded to a
// mobile) is still an internal call: nothing is sent with internal_calls = false. It used to
// be pushed as an outgoing call to the extension's number (found in review; rows built from
// FreePBX's Local/<num>@from-internal pattern, no real capture of these flows exists).
func TestInternalCallRingingOutside(t *testing.T) {
	var cases []*rb
	// 2. internal call 801 -> ring group 600 that includes a mobile; 802 answers.
	{
		b := &rb{}
		const l1, l2, out = "Local/0951234567@from-internal-00000001;1", "Local/0951234567@from-internal-00000001;2", "PJSIP/kyivstar-00000009"
		b.add(0, "CHAN_START", ph801, "1.1", "1.1", "exten", "600", "context", "from-internal", "cid", "801")
		b.add(0, "CHAN_START", ph802, "1.2", "1.1", "exten", "s", "context", "from-internal")
		b.add(0, "CHAN_START", l1, "1.3", "1.1", "exten", "0951234567", "context", "from-internal")
		b.add(0, "CHAN_START", l2, "1.4", "1.1", "exten", "0951234567", "context", "from-internal")
		b.add(0, "CHAN_START", out, "1.5", "1.1", "exten", "s", "context", "from-pstn")
		b.add(3, "ANSWER", ph802, "1.2", "1.1", "app", "AppDial", "data", "(Outgoing Line)")
		b.add(3, "HANGUP", out, "1.5", "1.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
		b.add(3, "CHAN_END", out, "1.5", "1.1")
		b.add(3, "HANGUP", l2, "1.4", "1.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":"CANCEL"}`)
		b.add(3, "CHAN_END", l2, "1.4", "1.1")
		b.add(3, "HANGUP", l1, "1.3", "1.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
		b.add(3, "CHAN_END", l1, "1.3", "1.1")
		b.add(3, "ANSWER", ph801, "1.1", "1.1", "context", "macro-dial", "app", "Dial", "data", "PJSIP/802/sip:802@10.0.0.7&Local/0951234567@from-internal/n,20")
		b.add(3, "BRIDGE_ENTER", ph802, "1.2", "1.1", "extra", bridgeExtra("b1", false))
		b.add(3, "BRIDGE_ENTER", ph801, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph802)
		b.add(20, "BRIDGE_EXIT", ph801, "1.1", "1.1", "extra", bridgeExtra("b1", false))
		b.add(20, "BRIDGE_EXIT", ph802, "1.2", "1.1", "extra", bridgeExtra("b1", false))
		b.add(20, "HANGUP", ph801, "1.1", "1.1", "extra", hangupExtra("ANSWER"))
		b.add(20, "CHAN_END", ph801, "1.1", "1.1")
		b.add(20, "HANGUP", ph802, "1.2", "1.1", "extra", hangupExtra(""))
		b.add(20, "CHAN_END", ph802, "1.2", "1.1")
		b.add(20, "LINKEDID_END", ph802, "1.2", "1.1")
		cases = append(cases, b)
	}
	// 3. internal call 801 -> 802 where 802 forwards unconditionally to a mobile, mobile answers.
	{
		b := &rb{}
		const l1, l2, out = "Local/0951234567@from-internal-00000001;1", "Local/0951234567@from-internal-00000001;2", "PJSIP/kyivstar-00000009"
		b.add(0, "CHAN_START", ph801, "1.1", "1.1", "exten", "802", "context", "from-internal", "cid", "801")
		b.add(0, "CHAN_START", l1, "1.3", "1.1", "exten", "0951234567", "context", "from-internal")
		b.add(0, "CHAN_START", l2, "1.4", "1.1", "exten", "0951234567", "context", "from-internal")
		b.add(0, "CHAN_START", out, "1.5", "1.1", "exten", "s", "context", "from-pstn")
		b.add(4, "ANSWER", out, "1.5", "1.1", "app", "AppDial", "data", "(Outgoing Line)")
		b.add(4, "ANSWER", l2, "1.4", "1.1", "context", "macro-dialout-trunk", "app", "Dial", "data", "PJSIP/0951234567@kyivstar,300,T")
		b.add(4, "ANSWER", l1, "1.3", "1.1", "app", "AppDial", "data", "(Outgoing Line)")
		b.add(4, "BRIDGE_ENTER", out, "1.5", "1.1", "extra", bridgeExtra("b1", false))
		b.add(4, "BRIDGE_ENTER", l2, "1.4", "1.1", "extra", bridgeExtra("b1", false), "peer", out)
		b.add(4, "ANSWER", ph801, "1.1", "1.1", "context", "macro-dial-one", "app", "Dial", "data", "Local/0951234567@from-internal/n,15")
		b.add(4, "BRIDGE_ENTER", l1, "1.3", "1.1", "extra", bridgeExtra("b2", false))
		b.add(4, "BRIDGE_ENTER", ph801, "1.1", "1.1", "extra", bridgeExtra("b2", false), "peer", l1)
		b.add(10, "HANGUP", ph801, "1.1", "1.1", "extra", hangupExtra("ANSWER"))
		b.add(10, "CHAN_END", ph801, "1.1", "1.1")
		b.add(10, "HANGUP", l1, "1.3", "1.1", "extra", hangupExtra(""))
		b.add(10, "CHAN_END", l1, "1.3", "1.1")
		b.add(10, "HANGUP", l2, "1.4", "1.1", "extra", hangupExtra("ANSWER"))
		b.add(10, "CHAN_END", l2, "1.4", "1.1")
		b.add(10, "HANGUP", out, "1.5", "1.1", "extra", hangupExtra(""))
		b.add(10, "CHAN_END", out, "1.5", "1.1")
		b.add(10, "LINKEDID_END", out, "1.5", "1.1")
		cases = append(cases, b)
	}
	for i, b := range cases {
		if evs := MapAll(DefaultConfig(), b.rows); len(evs) != 0 {
			t.Errorf("case %d: internal call sent %s", i+2, formLines(evs))
		}
		cfg := DefaultConfig()
		cfg.InternalCalls = true
		if evs := MapAll(cfg, b.rows); len(evs) == 0 || evs[0].CallType != 1 || evs[0].InternalNumber != "801" {
			t.Errorf("case %d with internal_calls: %s, want it sent as outgoing from 801", i+2, formLines(evs))
		}
	}
}
