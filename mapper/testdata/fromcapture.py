#!/usr/bin/env python3
"""Cut one scenario of a shared FreePBX capture into a golden case's input.json.

    python3 fromcapture.py CAPTURE_DIR SCENARIO CASE_DIR

CAPTURE_DIR is a shared capture (../../../shared/testdata/freepbx-cel-2), SCENARIO its number in
scenarios.json (P1, F3, ...). The rows are those of cel.csv with ids in the scenario's CEL id
range, copied as they are: ids, times (cel.csv's DATETIME(0) text, read as UTC, the capture
server's zone) and every column; empty columns are left out of the JSON, as in the other cases.
SOURCE names the capture and the scenario.
"""
import csv, json, os, sys

cap, num, out = sys.argv[1], sys.argv[2], sys.argv[3]
scen = {s["num"]: s for s in json.load(open(os.path.join(cap, "scenarios.json")))}[num]
lo, hi = scen["cel_id_from"], scen["cel_id_to"]
cols = ["eventtype", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten", "context",
        "channame", "appname", "appdata", "accountcode", "uniqueid", "linkedid", "peer", "userdeftype", "extra"]
rows = []
with open(os.path.join(cap, "cel.csv"), newline="") as f:
    for rec in csv.DictReader(f):
        i = int(rec["id"])
        if not lo <= i <= hi:
            continue
        r = {"id": i, "eventtype": rec["eventtype"], "eventtime": rec["eventtime"].replace(" ", "T") + "Z"}
        for c in cols[1:]:
            if rec[c] != "" or c in ("channame", "uniqueid", "linkedid"):
                r[c] = rec[c]
        rows.append(r)
if not rows or {r["linkedid"] for r in rows} - set(scen["linkedids"]):
    sys.exit("rows %d..%d do not hold exactly the scenario's linkedids" % (lo, hi))
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "input.json"), "w") as f:
    f.write("[\n" + ",\n".join(" " + json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n")
with open(os.path.join(out, "SOURCE"), "w") as f:
    f.write("shared/testdata/%s scenario %s (CEL ids %d..%d)\n" % (os.path.basename(os.path.normpath(cap)), num, lo, hi))
