#!/usr/bin/env python3
"""Convert a shared CEL fixture (../../../shared/testdata/{asterisk-testsuite-cel,wazo-call-logd-cel})
into a golden case's input.json (a JSON array of celbridge.CELRow).

    python3 convert.py SOURCE.json CASE_DIR

What it does, and nothing else:
* Wazo tables: rows are sorted by id when the dump has ids, else by eventtime (stable), as the
  fixture README says; eventtime is truncated to whole seconds and written as UTC (FreePBX's
  DATETIME(0) column; MariaDB truncates the fraction). Missing columns stay empty.
* Asterisk test_cel.c sequences (unit_test_cel_*): kept in the file's exact order. They have no
  eventtime, so row k gets 2026-01-01T10:00:00Z + k seconds (billsec in those cases counts
  rows, not real seconds). Placeholders are replaced: {Name} (a channel's uniqueid/linkedid) ->
  "1767261600.<n>" numbered by first appearance, {bridgeN} -> "bridgeN",
  {bridgeN.technology} -> "simple_bridge" (the fixture's placeholders note).
* extra objects are re-encoded as compact JSON, the way cel_odbc writes them.
* ids are 1..n in replay order.
"""
import json, re, sys, datetime

src, out = sys.argv[1], sys.argv[2]
d = json.load(open(src))
evs = d["events"]
wazo = "wazo" in src
cols = ["eventtype", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten", "context",
        "channame", "appname", "appdata", "accountcode", "uniqueid", "linkedid", "peer", "userdeftype", "extra"]

def parse_time(s):
    s = s.strip()
    m = re.match(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d+)?\s*(Z|[+-]\d\d(:?\d\d)?)?$", s)
    if not m:
        raise SystemExit("bad eventtime %r" % s)
    t = datetime.datetime.fromisoformat(m.group(1) + "T" + m.group(2))
    tz = m.group(4)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        hh = int(tz[1:3]); mm = int(tz[-2:]) if len(tz) > 3 else 0
        t -= sign * datetime.timedelta(hours=hh, minutes=mm)
    return t

if wazo:
    if all("id" in e for e in evs):
        evs = sorted(evs, key=lambda e: int(e["id"]))
    else:
        evs = sorted(evs, key=lambda e: parse_time(e["eventtime"]))

names = {}
def ph(v):
    def rep(m):
        k = m.group(1)
        if k.startswith("bridge"):
            return "simple_bridge" if k.endswith(".technology") else k
        if k not in names:
            names[k] = "1767261600.%d" % len(names)
        return names[k]
    return re.sub(r"\{([A-Za-z0-9_.]+)\}", rep, v)

rows = []
base = datetime.datetime(2026, 1, 1, 10, 0, 0)
for i, e in enumerate(evs):
    r = {"id": i + 1}
    for c in cols:
        v = e.get(c)
        if c == "extra" and v in (None, "") and e.get("eventextra"):
            v = e["eventextra"]
        if v is None:
            v = ""
        if isinstance(v, (dict, list)):
            v = json.dumps(v, separators=(",", ":"))
        v = ph(str(v)) if not wazo else str(v)
        if v != "" or c in ("eventtype", "channame", "uniqueid", "linkedid"):
            r[c] = v
    if wazo:
        t = parse_time(e["eventtime"])
    else:
        t = base + datetime.timedelta(seconds=i)
    r["eventtime"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows.append(r)

import os
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "input.json"), "w") as f:
    f.write("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n")
with open(os.path.join(out, "SOURCE"), "w") as f:
    f.write("shared/testdata/%s/%s\n" % (os.path.basename(os.path.dirname(os.path.abspath(src))), os.path.basename(src)))
