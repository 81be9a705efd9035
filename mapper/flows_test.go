package mapper

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

// Synthetic flows for what the FreePBX capture does not contain (IVR, voicemail, pickup,
// parking, a missing LINKEDID_END). Rows follow the shapes documented in
// ../shared/research/cel-semantics.md; the real-data cases are the golden tests.

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

type rb struct {
	rows []celbridge.CELRow
}

// add appends a row at second sec of channel name/uid in call lid; kv sets other columns.
func (b *rb) add(sec int, et, name, uid, lid string, kv ...string) {
	r := celbridge.CELRow{ID: int64(len(b.rows) + 1), EventType: et, EventTime: t0.Add(time.Duration(sec) * time.Second),
		ChanName: name, UniqueID: uid, LinkedID: lid}
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		switch kv[i] {
		case "exten":
			r.Exten = v
		case "context":
			r.Context = v
		case "cid":
			r.CIDNum = v
		case "app":
			r.AppName = v
		case "data":
			r.AppData = v
		case "extra":
			r.Extra = v
		case "peer":
			r.Peer = v
		}
	}
	b.rows = append(b.rows, r)
}

const (
	trunk = "PJSIP/kyivstar-00000001"
	ph801 = "PJSIP/801-00000002"
	ph802 = "PJSIP/802-00000003"
)

func bridgeExtra(id string, holding bool) string {
	tech := "simple_bridge"
	if holding {
		tech = "holding_bridge"
	}
	return `{"bridge_id":"` + id + `","bridge_technology":"` + tech + `"}`
}

func hangupExtra(ds string) string {
	return `{"hangupcause":16,"hangupsource":"","dialstatus":"` + ds + `"}`
}

// inbound starts an incoming call from 0670000001 to DID 0443334000.
func inbound(b *rb) {
	b.add(0, "CHAN_START", trunk, "1.1", "1.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000001")
}

func end(b *rb, sec int, chans ...[2]string) {
	for _, c := range chans {
		b.add(sec, "HANGUP", c[0], c[1], "1.1", "extra", hangupExtra(""))
		b.add(sec, "CHAN_END", c[0], c[1], "1.1")
	}
	b.add(sec, "LINKEDID_END", chans[len(chans)-1][0], chans[len(chans)-1][1], "1.1")
}

func TestFlows(t *testing.T) {
	const rcv = "didNumber=0443334000&externalNumber=0670000001&internalNumber="
	tests := []struct {
		name  string
		build func(b *rb)
		cfg   func(c *Config)
		want  []string
	}{{
		name: "IVR, caller hangs up before any destination",
		build: func(b *rb) {
			inbound(b)
			b.add(0, "ANSWER", trunk, "1.1", "1.1", "exten", "s", "context", "ivr-1", "app", "Answer")
			b.add(9, "HANGUP", trunk, "1.1", "1.1", "context", "ivr-1", "extra", `{"hangupcause":16,"hangupsource":"PJSIP/kyivstar-00000001","dialstatus":""}`)
			b.add(9, "CHAN_END", trunk, "1.1", "1.1")
			b.add(9, "LINKEDID_END", trunk, "1.1", "1.1")
		},
		want: []string{rcv + "&generalCallID=11&callType=0&requestType=receivedTheCall",
			"generalCallID=11&billsec=0&disposition=CANCEL&requestType=hangupTheCall"},
	}, {
		name: "no answer, then voicemail",
		build: func(b *rb) {
			inbound(b)
			b.add(0, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
			b.add(15, "HANGUP", ph801, "1.2", "1.1", "extra", hangupExtra(""))
			b.add(15, "CHAN_END", ph801, "1.2", "1.1")
			b.add(15, "ANSWER", trunk, "1.1", "1.1", "exten", "s", "context", "macro-vm", "app", "VoiceMail", "data", "801@default,u")
			b.add(15, "APP_START", trunk, "1.1", "1.1", "exten", "s", "context", "macro-vm", "app", "VoiceMail", "data", "801@default,u")
			end(b, 40, [2]string{trunk, "1.1"})
		},
		want: []string{rcv + "801&generalCallID=11&callType=0&requestType=receivedTheCall",
			"generalCallID=11&billsec=0&disposition=VM&requestType=hangupTheCall"},
	}, {
		name: "straight to voicemail (no phone rang)",
		build: func(b *rb) {
			inbound(b)
			b.add(1, "APP_START", trunk, "1.1", "1.1", "app", "VoiceMail", "data", "u802@default")
			end(b, 30, [2]string{trunk, "1.1"})
		},
		want: []string{rcv + "802&generalCallID=11&callType=0&requestType=receivedTheCall",
			"generalCallID=11&billsec=0&disposition=VM&requestType=hangupTheCall"},
	}, {
		name: "802 picks up 801's ringing call",
		build: func(b *rb) {
			inbound(b)
			b.add(0, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
			b.add(4, "PICKUP", ph801, "1.2", "1.1", "extra", `{"pickup_channel":"PJSIP/802-00000003","pickup_channel_uniqueid":"1.3"}`)
			// After the masquerade the picker's identity is bridged with the caller.
			b.add(4, "BRIDGE_ENTER", ph802, "1.3", "1.1", "extra", bridgeExtra("b1", false))
			b.add(4, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph802)
			end(b, 14, [2]string{ph802, "1.3"}, [2]string{ph801, "1.2"}, [2]string{trunk, "1.1"})
		},
		want: []string{rcv + "801&generalCallID=11&callType=0&requestType=receivedTheCall",
			rcv + "802&generalCallID=11&callType=0&requestType=answeredTheCall",
			"generalCallID=11&billsec=10&disposition=ANSWER&requestType=hangupTheCall"},
	}, {
		name: "parked 30 s, retrieved by 802: parked time is not talk time",
		build: func(b *rb) {
			inbound(b)
			b.add(0, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
			b.add(10, "BRIDGE_ENTER", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false))
			b.add(10, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph801)
			b.add(20, "BRIDGE_EXIT", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false))
			b.add(20, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("park", true))
			b.add(20, "PARK_START", trunk, "1.1", "1.1", "extra", `{"parker_dial_string":"PJSIP/801","parking_lot":"default"}`)
			b.add(21, "HANGUP", ph801, "1.2", "1.1", "extra", hangupExtra(""))
			b.add(21, "CHAN_END", ph801, "1.2", "1.1")
			b.add(50, "PARK_END", trunk, "1.1", "1.1", "extra", `{"reason":"ParkedCallUnparked","retriever":"PJSIP/802-00000003"}`)
			b.add(50, "BRIDGE_EXIT", trunk, "1.1", "1.1", "extra", bridgeExtra("park", true))
			b.add(50, "BRIDGE_ENTER", ph802, "1.3", "1.1", "extra", bridgeExtra("b2", false))
			b.add(50, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b2", false), "peer", ph802)
			end(b, 60, [2]string{trunk, "1.1"}, [2]string{ph802, "1.3"})
		},
		cfg: func(c *Config) { c.SendTransfers = true },
		want: []string{rcv + "801&generalCallID=11&callType=0&requestType=receivedTheCall",
			rcv + "801&generalCallID=11&callType=0&requestType=answeredTheCall",
			"internalNumber=802&generalCallID=11&requestType=transferredTheCall",
			"generalCallID=11&billsec=20&disposition=TRANSFER&requestType=hangupTheCall"},
	}, {
		name: "outgoing with a route prefix: number as sent to the trunk once Dial shows it",
		build: func(b *rb) {
			b.add(0, "CHAN_START", ph801, "1.1", "1.1", "exten", "90670219424", "context", "from-internal", "cid", "801")
			b.add(0, "CHAN_START", trunk, "1.2", "1.1", "exten", "s", "context", "from-pstn")
			b.add(3, "ANSWER", trunk, "1.2", "1.1", "app", "AppDial", "data", "(Outgoing Line)")
			b.add(3, "ANSWER", ph801, "1.1", "1.1", "cid", "0443334000", "app", "Dial", "data", "PJSIP/0670219424@kyivstar,300,T")
			b.add(3, "BRIDGE_ENTER", trunk, "1.2", "1.1", "extra", bridgeExtra("b1", false))
			b.add(3, "BRIDGE_ENTER", ph801, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", trunk, "app", "Dial", "data", "PJSIP/0670219424@kyivstar,300,T")
			end(b, 10, [2]string{trunk, "1.2"}, [2]string{ph801, "1.1"})
		},
		want: []string{"externalNumber=90670219424&internalNumber=801&generalCallID=11&callType=1&requestType=receivedTheCall",
			"externalNumber=0670219424&internalNumber=801&generalCallID=11&callType=1&requestType=answeredTheCall",
			"generalCallID=11&billsec=7&disposition=ANSWER&requestType=hangupTheCall"},
	}, {
		name: "outgoing, trunk unavailable: no trunk channel, outbound-route footprint",
		build: func(b *rb) {
			b.add(0, "CHAN_START", ph801, "1.1", "1.1", "exten", "0670219424", "context", "from-internal", "cid", "801")
			b.add(0, "HANGUP", ph801, "1.1", "1.1", "context", "macro-dialout-trunk", "extra", hangupExtra("CHANUNAVAIL"))
			b.add(0, "CHAN_END", ph801, "1.1", "1.1")
			b.add(0, "LINKEDID_END", ph801, "1.1", "1.1")
		},
		want: []string{"externalNumber=0670219424&internalNumber=801&generalCallID=11&callType=1&requestType=receivedTheCall",
			"generalCallID=11&billsec=0&disposition=CHANUNAVAIL&requestType=hangupTheCall"},
	}, {
		name: "follow-me of 801 (Local/FMPR-801), answered on the mobile: incoming, 801, answered",
		build: func(b *rb) {
			const fm1, fm2 = "Local/FMPR-801@from-internal-00000001;1", "Local/FMPR-801@from-internal-00000001;2"
			const mob1, mob2 = "Local/0951234567@from-internal-00000002;1", "Local/0951234567@from-internal-00000002;2"
			const out = "PJSIP/kyivstar-00000009"
			inbound(b)
			b.add(0, "CHAN_START", fm1, "1.2", "1.1", "exten", "FMPR-801", "context", "from-internal")
			b.add(0, "CHAN_START", fm2, "1.3", "1.1", "exten", "FMPR-801", "context", "from-internal")
			b.add(0, "CHAN_START", ph801, "1.4", "1.1", "exten", "s", "context", "from-internal")
			b.add(0, "CHAN_START", mob1, "1.5", "1.1", "exten", "0951234567", "context", "from-internal")
			b.add(0, "CHAN_START", mob2, "1.6", "1.1", "exten", "0951234567", "context", "from-internal")
			b.add(0, "CHAN_START", out, "1.7", "1.1", "exten", "s", "context", "from-pstn")
			b.add(6, "BRIDGE_ENTER", out, "1.7", "1.1", "extra", bridgeExtra("b1", false))
			b.add(6, "BRIDGE_ENTER", mob2, "1.6", "1.1", "extra", bridgeExtra("b1", false), "peer", out)
			b.add(6, "HANGUP", ph801, "1.4", "1.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
			b.add(6, "CHAN_END", ph801, "1.4", "1.1")
			b.add(6, "BRIDGE_ENTER", mob1, "1.5", "1.1", "extra", bridgeExtra("b2", false))
			b.add(6, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b2", false), "peer", mob1)
			end(b, 16, [2]string{trunk, "1.1"}, [2]string{mob1, "1.5"}, [2]string{mob2, "1.6"}, [2]string{out, "1.7"},
				[2]string{fm1, "1.2"}, [2]string{fm2, "1.3"})
		},
		want: []string{rcv + "801&generalCallID=11&callType=0&requestType=receivedTheCall",
			rcv + "801&generalCallID=11&callType=0&requestType=answeredTheCall",
			"generalCallID=11&billsec=10&disposition=ANSWER&requestType=hangupTheCall"},
	}, {
		// Channel names as a real Issabel/FreePBX follow-me dials them (CDR of an inbound call
		// to 7000 answered on the mobile: Dial(Local/FMPR-7000@from-internal&
		// Local/FMGL-0988500072#@from-internal,...), then Local/0988500072@from-internal).
		name: "follow-me FMPR + FMGL-<number># (Issabel names), answered on the mobile: 7000",
		build: func(b *rb) {
			const pr1, pr2 = "Local/FMPR-7000@from-internal-00000014;1", "Local/FMPR-7000@from-internal-00000014;2"
			const gl1, gl2 = "Local/FMGL-0988500072#@from-internal-00000015;1", "Local/FMGL-0988500072#@from-internal-00000015;2"
			const mob1, mob2 = "Local/0988500072@from-internal-00000016;1", "Local/0988500072@from-internal-00000016;2"
			const ph7000, out = "PJSIP/7000-00000026", "PJSIP/IntekVox-00000027"
			inbound(b)
			b.add(0, "CHAN_START", pr1, "1.2", "1.1", "exten", "FMPR-7000", "context", "from-internal")
			b.add(0, "CHAN_START", pr2, "1.3", "1.1", "exten", "FMPR-7000", "context", "from-internal")
			b.add(0, "CHAN_START", gl1, "1.4", "1.1", "exten", "FMGL-0988500072#", "context", "from-internal")
			b.add(0, "CHAN_START", gl2, "1.5", "1.1", "exten", "FMGL-0988500072#", "context", "from-internal")
			b.add(0, "CHAN_START", ph7000, "1.6", "1.1", "exten", "s", "context", "from-internal")
			b.add(0, "CHAN_START", mob1, "1.7", "1.1", "exten", "0988500072", "context", "from-internal")
			b.add(0, "CHAN_START", mob2, "1.8", "1.1", "exten", "0988500072", "context", "from-internal")
			b.add(0, "CHAN_START", out, "1.9", "1.1", "exten", "s", "context", "from-pstn")
			b.add(5, "BRIDGE_ENTER", out, "1.9", "1.1", "extra", bridgeExtra("b1", false))
			b.add(5, "BRIDGE_ENTER", mob2, "1.8", "1.1", "extra", bridgeExtra("b1", false), "peer", out)
			b.add(5, "BRIDGE_ENTER", mob1, "1.7", "1.1", "extra", bridgeExtra("b2", false))
			b.add(5, "BRIDGE_ENTER", gl2, "1.5", "1.1", "extra", bridgeExtra("b2", false), "peer", mob1)
			b.add(5, "HANGUP", ph7000, "1.6", "1.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
			b.add(5, "CHAN_END", ph7000, "1.6", "1.1")
			b.add(5, "BRIDGE_ENTER", gl1, "1.4", "1.1", "extra", bridgeExtra("b3", false))
			b.add(5, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b3", false), "peer", gl1)
			end(b, 7, [2]string{trunk, "1.1"}, [2]string{gl1, "1.4"}, [2]string{gl2, "1.5"}, [2]string{mob1, "1.7"},
				[2]string{mob2, "1.8"}, [2]string{out, "1.9"}, [2]string{pr1, "1.2"}, [2]string{pr2, "1.3"})
		},
		want: []string{rcv + "7000&generalCallID=11&callType=0&requestType=receivedTheCall",
			rcv + "7000&generalCallID=11&callType=0&requestType=answeredTheCall",
			"generalCallID=11&billsec=2&disposition=ANSWER&requestType=hangupTheCall"},
	}, {
		name: "hunt group with [[pbx.groups]]: phones ring one after another, one receivedTheCall",
		build: func(b *rb) {
			inbound(b)
			b.add(0, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
			b.add(15, "HANGUP", ph801, "1.2", "1.1", "extra", hangupExtra(""))
			b.add(15, "CHAN_END", ph801, "1.2", "1.1")
			b.add(15, "CHAN_START", ph802, "1.3", "1.1", "exten", "s", "context", "from-internal")
			b.add(20, "BRIDGE_ENTER", ph802, "1.3", "1.1", "extra", bridgeExtra("b1", false))
			b.add(20, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph802)
			end(b, 30, [2]string{trunk, "1.1"}, [2]string{ph802, "1.3"})
		},
		cfg: func(c *Config) { c.Groups = []Group{{Number: "600", Members: []string{"801", "802"}}} },
		want: []string{rcv + "801&generalCallID=11&callType=0&requestType=receivedTheCall",
			rcv + "802&generalCallID=11&callType=0&requestType=answeredTheCall",
			"generalCallID=11&billsec=10&disposition=ANSWER&requestType=hangupTheCall"},
	}, {
		name: "ring group shown by a Local/600@ext-group helper",
		build: func(b *rb) {
			inbound(b)
			b.add(0, "CHAN_START", "Local/600@ext-group-00000003;1", "1.2", "1.1", "exten", "600", "context", "ext-group")
			b.add(0, "CHAN_START", "Local/600@ext-group-00000003;2", "1.3", "1.1", "exten", "600", "context", "ext-group")
			b.add(0, "CHAN_START", ph801, "1.4", "1.1", "exten", "s", "context", "from-internal")
			b.add(9, "HANGUP", trunk, "1.1", "1.1", "extra", `{"hangupcause":16,"hangupsource":"PJSIP/kyivstar-00000001","dialstatus":"CANCEL"}`)
			b.add(9, "CHAN_END", trunk, "1.1", "1.1")
			end(b, 9, [2]string{ph801, "1.4"}, [2]string{"Local/600@ext-group-00000003;1", "1.2"}, [2]string{"Local/600@ext-group-00000003;2", "1.3"})
		},
		want: []string{rcv + "600&generalCallID=11&callType=0&requestType=receivedTheCall",
			"generalCallID=11&billsec=0&disposition=CANCEL&requestType=hangupTheCall"},
	}, {
		name: "feature code call by a phone is not sent",
		build: func(b *rb) {
			b.add(0, "CHAN_START", ph801, "1.1", "1.1", "exten", "*97", "context", "from-internal", "cid", "801")
			b.add(0, "ANSWER", ph801, "1.1", "1.1", "app", "VoiceMailMain")
			end(b, 5, [2]string{ph801, "1.1"})
		},
		cfg: func(c *Config) { c.InternalCalls = true },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b rb
			tt.build(&b)
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			m := New(cfg)
			var got []string
			for _, r := range b.rows {
				evs, warn := m.Feed(r)
				if warn != nil {
					t.Errorf("row %d %s: %v", r.ID, r.EventType, warn)
				}
				for _, e := range evs {
					got = append(got, celbridge.EncodeForm(e.Fields("")))
				}
			}
			for _, e := range m.Flush() {
				got = append(got, "FLUSH "+celbridge.EncodeForm(e.Fields("")))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("(-want +got):\n%s", lineDiff(strings.Join(tt.want, "\n"), strings.Join(got, "\n")))
			}
		})
	}
}

// TestDecidingRows checks that events leave as soon as the deciding row is read (the screen
// pop must not wait for the end of the call).
func TestDecidingRows(t *testing.T) {
	tests := []struct {
		dir  string
		want []int64 // CELID of each event, in order
	}{
		{"s01-in-answered-customer-hangup", []int64{2, 6, 13}},        // phone CHAN_START, trunk BRIDGE_ENTER, LINKEDID_END
		{"s04-group-answered", []int64{58, 66, 73}},                   // last member's CHAN_START completes group 600
		{"s05a-queue-answered", []int64{88, 108, 124}},                // trunk enters ext-queues 700; trunk bridged via Local pair
		{"s07b-attended-transfer-phone", []int64{244, 248, 257, 271}}, // transfer seen on the peer field
		{"s08-out-answered", []int64{273, 277, 284}},                  // trunk leg created; bridge with the trunk
		{"s11-in-forward-mobile", []int64{315, 323, 336}},
	}
	for _, tt := range tests {
		cfg := loadCaseConfig(t, "testdata/"+tt.dir)
		evs := MapAll(cfg, loadRows(t, "testdata/"+tt.dir+"/input.json"))
		var got []int64
		for _, e := range evs {
			got = append(got, e.CELID)
			if e.FirstCELID != evs[0].FirstCELID || e.Time.IsZero() || e.Rule == "" {
				t.Errorf("%s: incomplete event %+v", tt.dir, e)
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: deciding rows %v, want %v", tt.dir, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: deciding rows %v, want %v", tt.dir, got, tt.want)
				break
			}
		}
	}
}

func TestExpire(t *testing.T) {
	var b rb
	inbound(&b)
	b.add(0, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(5, "HANGUP", ph801, "1.2", "1.1", "extra", hangupExtra(""))
	b.add(5, "CHAN_END", ph801, "1.2", "1.1")
	b.add(5, "HANGUP", trunk, "1.1", "1.1", "extra", hangupExtra("CANCEL"))
	b.add(5, "CHAN_END", trunk, "1.1", "1.1") // no LINKEDID_END
	b.add(6, "CHAN_START", trunk, "2.1", "2.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000002")
	m := New(DefaultConfig())
	for _, r := range b.rows {
		if _, warn := m.Feed(r); warn != nil {
			t.Fatal(warn)
		}
	}
	if id, ok := m.OldestOpen(); !ok || id != 1 || m.OpenCalls() != 2 {
		t.Fatalf("OldestOpen = %d, %v; OpenCalls %d", id, ok, m.OpenCalls())
	}
	if evs := m.Expire(t0.Add(7 * time.Second)); len(evs) != 0 {
		t.Fatalf("closed within end grace: %v", evs)
	}
	evs := m.Expire(t0.Add(8 * time.Second))
	if len(evs) != 1 || evs[0].Disposition != celbridge.DispCancel || evs[0].LinkedID != "1.1" || evs[0].CELID != 6 {
		t.Fatalf("Expire after grace = %+v", evs)
	}
	if id, _ := m.OldestOpen(); id != 7 || m.OpenCalls() != 1 {
		t.Fatalf("after expiry OldestOpen %d, OpenCalls %d", id, m.OpenCalls())
	}
	// The second call has a live channel: only MaxCallAge closes it, with receivedTheCall
	// (it never reached anyone) and hangupTheCall.
	if evs := m.Expire(t0.Add(time.Hour)); len(evs) != 0 {
		t.Fatalf("live call closed early: %v", evs)
	}
	evs = m.Expire(t0.Add(13 * time.Hour))
	if len(evs) != 2 || evs[0].RequestType != celbridge.Received || evs[1].RequestType != celbridge.Hangup || m.OpenCalls() != 0 {
		t.Fatalf("MaxCallAge expiry = %+v", evs)
	}
}

func TestGroupBurstNotSplitByOtherCalls(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Groups = []Group{{Number: "600", Members: []string{"801", "802", "803"}}}
	m := New(cfg)
	var b rb
	inbound(&b)
	b.add(0, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(0, "CHAN_START", trunk, "2.1", "2.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000002")
	b.add(0, "CHAN_START", ph802, "1.3", "1.1", "exten", "s", "context", "from-internal")
	b.add(0, "CHAN_START", "PJSIP/803-00000009", "2.2", "2.1", "exten", "s", "context", "from-internal")
	var evs []celbridge.Event
	for _, r := range b.rows {
		e, _ := m.Feed(r)
		evs = append(evs, e...)
	}
	// Another call's rows between two rings of call 1 do not end its burst.
	if len(evs) != 0 {
		t.Fatalf("burst released by another call's row: %+v", evs)
	}
	if evs = m.Expire(t0.Add(999 * time.Millisecond)); len(evs) != 0 {
		t.Fatalf("burst released within its second: %+v", evs)
	}
	evs = m.Expire(t0.Add(burstSettle))
	if len(evs) != 2 {
		t.Fatalf("at the next second: %+v, want the receivedTheCall of both calls", evs)
	}
	// Call 1: two of the group's three phones rang: 600, decided at the last ring (row 4).
	if e := evs[0]; e.InternalNumber != "600" || e.CELID != 4 || !strings.Contains(e.Rule, "ring group 600") {
		t.Errorf("call 1 burst: %+v", e)
	}
	// Call 2: one phone of the group rang alone: the phone itself.
	if e := evs[1]; e.InternalNumber != "803" || e.LinkedID != "2.1" {
		t.Errorf("call 2 burst: %+v", e)
	}
}

func TestWarnings(t *testing.T) {
	m := New(DefaultConfig())
	var b rb
	inbound(&b)
	b.add(1, "DTMF", trunk, "1.1", "1.1", "extra", `{"digit":"7","duration_ms":120}`)
	b.add(1, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", `{"digit":"7" garbage`)
	b.add(1, "HANGUP", trunk, "9.9", "9.9", "extra", hangupExtra(""))
	b.add(1, "CHAN_START", trunk, "1.1", "1.1")
	b.add(1, "CHAN_START", "Message/ast_msg_queue", "3.1", "3.1")
	b.add(1, "SOMETHING_NEW", "", "", "")
	b.add(1, "HANGUP", "", "", "")
	if _, warn := m.Feed(b.rows[0]); warn != nil {
		t.Fatal(warn)
	}
	want := []string{"", "extra is not a JSON object", "unknown call", "second CHAN_START", "", "", "without linkedid"}
	for i, r := range b.rows[1:] {
		_, warn := m.Feed(r)
		switch {
		case want[i] == "" && warn != nil:
			t.Errorf("row %d %s: unexpected warning %v", r.ID, r.EventType, warn)
		case want[i] != "" && (warn == nil || !strings.Contains(warn.Error(), want[i])):
			t.Errorf("row %d %s: warning %v, want %q", r.ID, r.EventType, warn, want[i])
		case warn != nil && strings.Contains(warn.Error(), "7"):
			t.Errorf("row %d: warning leaks the DTMF digit: %v", r.ID, warn)
		}
		if i == 2 && !errors.Is(warn, ErrUnknownCall) {
			t.Errorf("unknown linkedid warning does not wrap ErrUnknownCall: %v", warn)
		}
	}
	if m.OpenCalls() != 1 {
		t.Errorf("OpenCalls = %d, want 1 (Message/ channels are not calls)", m.OpenCalls())
	}
}

func TestReachFollowsLocalPairs(t *testing.T) {
	cfg := DefaultConfig()
	mk := func(name, bridge string) *channel {
		return &channel{uid: name, name: name, info: classify(name, cfg.ExtensionPattern), bridge: bridge}
	}
	tr := mk(trunk, "b1")
	l1 := mk("Local/801@from-queue-00000000;1", "b1")
	l2 := mk("Local/801@from-queue-00000000;2", "b2")
	p := mk(ph801, "b2")
	o1 := mk("Local/802@from-queue-00000001;1", "")
	o2 := mk("Local/802@from-queue-00000001;2", "b3")
	q := mk(ph802, "b3")
	c := &call{chans: []*channel{tr, l1, l2, p, o1, o2, q}}
	got := c.reach(tr)
	if len(got) != 4 || got[3] != p {
		t.Errorf("reach(trunk) = %d channels, want trunk, ;1, ;2, 801", len(got))
	}
	if r := c.reach(q); len(r) != 3 {
		t.Errorf("reach(802) = %d channels, want 802, ;2, ;1 (not bridged with the trunk)", len(r))
	}
	l2.ended = true
	if r := c.reach(tr); len(r) != 2 {
		t.Errorf("reach through an ended Local half = %d, want 2", len(r))
	}
}

// TestTransferIntoOlderCall: the caller (1.1) is transferred to 803, who was already on an
// older internal call (0.1). In a basic bridge the oldest linkedid wins, so the caller's
// later rows carry 0.1. Here the caller is the last channel of 1.1 to move, so
// LINKEDID_END(1.1) is logged with the caller's own snapshot before its rows under 0.1 (the
// golden case s07c has the other order).
func TestTransferIntoOlderCall(t *testing.T) {
	const ph801b, ph803 = "PJSIP/801-00000000", "PJSIP/803-00000009"
	var b rb
	b.add(0, "CHAN_START", ph801b, "0.1", "0.1", "exten", "803", "context", "from-internal")
	b.add(0, "CHAN_START", ph803, "0.2", "0.1", "exten", "s", "context", "from-internal")
	b.add(2, "BRIDGE_ENTER", ph803, "0.2", "0.1", "extra", bridgeExtra("b0", false))
	b.add(2, "BRIDGE_ENTER", ph801b, "0.1", "0.1", "extra", bridgeExtra("b0", false), "peer", ph803)
	inbound(&b)
	b.add(10, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(12, "BRIDGE_ENTER", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(12, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph801)
	b.add(20, "BLINDTRANSFER", ph801, "1.2", "1.1", "extra", `{"extension":"803","context":"from-internal-xfer","bridge_id":"b1"}`)
	b.add(20, "BRIDGE_EXIT", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(20, "HANGUP", ph801, "1.2", "1.1", "extra", hangupExtra(""))
	b.add(20, "CHAN_END", ph801, "1.2", "1.1")
	b.add(21, "BRIDGE_EXIT", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false))
	b.add(21, "BRIDGE_EXIT", ph801b, "0.1", "0.1", "extra", bridgeExtra("b0", false))
	b.add(21, "HANGUP", ph801b, "0.1", "0.1", "extra", hangupExtra("ANSWER"))
	b.add(21, "CHAN_END", ph801b, "0.1", "0.1")
	b.add(21, "LINKEDID_END", trunk, "1.1", "1.1") // the caller's snapshot: it moved to 0.1
	b.add(21, "BRIDGE_ENTER", trunk, "1.1", "0.1", "extra", bridgeExtra("b0", false), "peer", ph803)
	b.add(81, "BRIDGE_EXIT", trunk, "1.1", "0.1", "extra", bridgeExtra("b0", false))
	b.add(81, "HANGUP", trunk, "1.1", "0.1", "extra", hangupExtra("ANSWER"))
	b.add(81, "CHAN_END", trunk, "1.1", "0.1")
	b.add(81, "HANGUP", ph803, "0.2", "0.1", "extra", hangupExtra(""))
	b.add(81, "CHAN_END", ph803, "0.2", "0.1")
	b.add(81, "LINKEDID_END", ph803, "0.2", "0.1")

	for _, internal := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.SendTransfers, cfg.InternalCalls = true, internal
		m := New(cfg)
		var got []string
		closedAt := map[string]int64{}
		for _, r := range b.rows {
			evs, warn := m.Feed(r)
			if warn != nil {
				t.Errorf("internal_calls=%v: row %d: %v", internal, r.ID, warn)
			}
			evs = append(evs, m.Expire(r.EventTime)...)
			for _, e := range evs {
				got = append(got, e.LinkedID+" "+e.RequestType+" "+e.InternalNumber+" "+e.Disposition+" "+strconv.Itoa(e.Billsec))
				if e.RequestType == celbridge.Hangup {
					closedAt[e.LinkedID] = e.CELID
				}
			}
		}
		want := []string{
			"1.1 receivedTheCall 801  0", "1.1 answeredTheCall 801  0",
			"1.1 transferredTheCall 803  0", "1.1 hangupTheCall  TRANSFER 69",
		}
		if internal {
			want = []string{
				"0.1 receivedTheCall 801  0", "0.1 answeredTheCall 801  0",
				"1.1 receivedTheCall 801  0", "1.1 answeredTheCall 801  0",
				"1.1 transferredTheCall 803  0", "1.1 hangupTheCall  TRANSFER 69",
				"0.1 hangupTheCall  ANSWER 19",
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("internal_calls=%v:\n got %q\nwant %q", internal, got, want)
		}
		if closedAt["1.1"] != 21 || m.OpenCalls() != 0 {
			t.Errorf("internal_calls=%v: caller's call closed at row %d (want 21, its CHAN_END); %d calls open", internal, closedAt["1.1"], m.OpenCalls())
		}
	}
}

// TestLinkedIDEndWhileCallerUp: LINKEDID_END while the caller's channel is still up and no
// row of it follows under another linkedid (its CHAN_END not logged): the call closes
// end_grace after the LINKEDID_END, not at max_call_age.
func TestLinkedIDEndWhileCallerUp(t *testing.T) {
	var b rb
	inbound(&b)
	b.add(0, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(2, "BRIDGE_ENTER", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(2, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph801)
	b.add(12, "HANGUP", trunk, "1.1", "1.1", "extra", hangupExtra("ANSWER"))
	b.add(12, "HANGUP", ph801, "1.2", "1.1", "extra", hangupExtra(""))
	b.add(12, "CHAN_END", ph801, "1.2", "1.1")
	b.add(12, "LINKEDID_END", ph801, "1.2", "1.1")
	m := New(DefaultConfig())
	for _, r := range b.rows {
		if evs, _ := m.Feed(r); len(evs) > 0 && evs[len(evs)-1].RequestType == celbridge.Hangup {
			t.Fatalf("closed at row %d while the caller's channel had not ended", r.ID)
		}
	}
	if evs := m.Expire(t0.Add(14 * time.Second)); len(evs) != 0 {
		t.Fatalf("closed within end_grace of the LINKEDID_END: %+v", evs)
	}
	evs := m.Expire(t0.Add(15 * time.Second))
	if len(evs) != 1 || evs[0].RequestType != celbridge.Hangup || evs[0].Billsec != 10 || evs[0].CELID != 8 {
		t.Fatalf("Expire after end_grace = %+v, want one hangupTheCall, billsec 10, row 8", evs)
	}
}

// TestClickToCall: an AMI originate of Local/801@from-internal to 0670219424 (the usual
// FreePBX click-to-call). The Local helper rings 801's phone first; once 801 answers it dials
// the number through the trunk. FreePBX logs no Dial APP_START, so the number shows in the
// Dial data of the helper's row when the callee answers (or never, when nobody answers).
// Shapes from the real Wazo API originate (golden w-click-to-call-api) and FreePBX's rows in
// s08.
func TestClickToCall(t *testing.T) {
	const l1, l2, ph, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2", "PJSIP/801-00000005", "PJSIP/kyivstar-00000006"
	build := func(answered bool) *rb {
		var b rb
		b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
		b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
		b.add(0, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
		b.add(3, "ANSWER", ph, "5.3", "5.1")
		b.add(3, "ANSWER", l2, "5.2", "5.1", "app", "Dial", "data", "PJSIP/801,15")
		b.add(3, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b1", false))
		b.add(3, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b1", false), "peer", ph)
		b.add(3, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
		b.add(3, "CHAN_START", tr, "5.4", "5.1", "exten", "s", "context", "from-pstn")
		if answered {
			b.add(10, "ANSWER", tr, "5.4", "5.1")
			b.add(10, "BRIDGE_ENTER", tr, "5.4", "5.1", "extra", bridgeExtra("b2", false))
			b.add(10, "BRIDGE_ENTER", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
				"data", "PJSIP/0670219424@kyivstar,300,Ttb(func-apply-sipheaders^s^1)", "extra", bridgeExtra("b2", false), "peer", tr)
		}
		for _, c := range [][2]string{{tr, "5.4"}, {l1, "5.1"}, {l2, "5.2"}, {ph, "5.3"}} {
			b.add(40, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
			b.add(40, "CHAN_END", c[0], c[1], "5.1")
		}
		b.add(40, "LINKEDID_END", ph, "5.3", "5.1")
		return &b
	}
	for _, tt := range []struct {
		answered bool
		want     []string
	}{{true, []string{
		"externalNumber=0670219424&internalNumber=801&generalCallID=51&callType=1&requestType=receivedTheCall",
		"externalNumber=0670219424&internalNumber=801&generalCallID=51&callType=1&requestType=answeredTheCall",
		"generalCallID=51&billsec=30&disposition=ANSWER&requestType=hangupTheCall",
	}}, {false, []string{
		"externalNumber=&internalNumber=801&generalCallID=51&callType=1&requestType=receivedTheCall",
		"generalCallID=51&billsec=0&disposition=NOANSWER&requestType=hangupTheCall",
	}}} {
		var got []string
		for _, e := range MapAll(DefaultConfig(), build(tt.answered).rows) {
			got = append(got, celbridge.EncodeForm(e.Fields("")))
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("answered=%v:\n got %q\nwant %q", tt.answered, got, tt.want)
		}
	}
}

// TestClickToCallPhoneOriginate: the other click-to-call shape, an originate of the phone's
// own channel (Channel: PJSIP/801, then from-internal,0670219424): the phone is the
// originator and is answered before any other channel starts; its CHAN_START has exten s.
func TestClickToCallPhoneOriginate(t *testing.T) {
	const ph, tr = "PJSIP/801-00000005", "PJSIP/kyivstar-00000006"
	var b rb
	b.add(0, "CHAN_START", ph, "6.1", "6.1", "exten", "s", "context", "from-internal")
	b.add(3, "ANSWER", ph, "6.1", "6.1", "exten", "s", "context", "from-internal")
	b.add(3, "CHAN_START", tr, "6.2", "6.1", "exten", "s", "context", "from-pstn")
	b.add(9, "ANSWER", tr, "6.2", "6.1")
	b.add(9, "BRIDGE_ENTER", tr, "6.2", "6.1", "extra", bridgeExtra("b1", false))
	b.add(9, "BRIDGE_ENTER", ph, "6.1", "6.1", "context", "macro-dialout-trunk", "app", "Dial",
		"data", "PJSIP/0670219424@kyivstar,300,Ttb(func-apply-sipheaders^s^1)", "extra", bridgeExtra("b1", false), "peer", tr)
	b.add(19, "HANGUP", ph, "6.1", "6.1", "extra", hangupExtra("ANSWER"))
	b.add(19, "CHAN_END", ph, "6.1", "6.1")
	b.add(19, "HANGUP", tr, "6.2", "6.1", "extra", hangupExtra(""))
	b.add(19, "CHAN_END", tr, "6.2", "6.1")
	b.add(19, "LINKEDID_END", tr, "6.2", "6.1")
	var got []string
	for _, e := range MapAll(DefaultConfig(), b.rows) {
		got = append(got, celbridge.EncodeForm(e.Fields("")))
	}
	want := []string{
		"externalNumber=0670219424&internalNumber=801&generalCallID=61&callType=1&requestType=receivedTheCall",
		"externalNumber=0670219424&internalNumber=801&generalCallID=61&callType=1&requestType=answeredTheCall",
		"generalCallID=61&billsec=10&disposition=ANSWER&requestType=hangupTheCall",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}
