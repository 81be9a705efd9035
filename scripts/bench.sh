#!/usr/bin/env bash
# scripts/bench.sh [celbench flags]: the whole benchmark of BENCHMARKS.md in one run.
#
# Builds celbridge and cmd/celbench, starts a throwaway MariaDB server (a temp dir, unix socket
# only, no binlog, relaxed durability: it only holds generated data), then runs celbench:
# load 1,000,000 CEL rows, (a) `mariadb --quick` streaming them (the read baseline of issue
# 13), (b) backfill -dry-run, (c) backfill to a CRM stub against the stub's capacity, `run`
# catching up after three days stopped, live latency at @every 1s and @every 250ms with rows
# examined per poll from the slow log, and peak memory with 10,000 calls open at once. It prints
# issue 13's targets first, each with its ratio and met / not met. Go micro-benchmarks of the
# mapper, the form encoder and the store follow. Takes about 8-10 minutes on 2 cores.
#
# The 10,000,000-row backfill of issue 13.3 (peak RSS) takes long (20-30 minutes: loading the
# rows, then sending 1.5 million requests): add -rows-memory 10000000 to run it too.
#
# Environment:
#   BENCH_OUT=dir     keep results (results.json, results.md, gobench.txt) here (default: bench-results/)
#   SKIP_GOBENCH=1    skip the go test -bench part
#   BENCH_BASE=file   instead of the run above, compare this tree's celbridge with the celbridge
#                     binary at file side by side: the rows are loaded once, then the phases of
#                     BENCH_PHASES (default send) run with the base and this tree's binary
#                     alternately, BENCH_PAIRS times (default 3), so that each pair sees the same
#                     machine load. Their lines go to $BENCH_OUT/ab.txt. Build the base with
#                     e.g. git archive <commit> | tar -x -C /tmp/base && (cd /tmp/base &&
#                     go build -trimpath -o /tmp/celbridge-base ./cmd/celbridge).
#
# mariadb-server is installed with apt-get when mariadbd is missing, as scripts/test-mariadb.sh
# does.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
out=${BENCH_OUT:-bench-results}

me=bench
# shellcheck source=lib/mariadb.sh
source scripts/lib/mariadb.sh
mariadb_ensure
mariadb_dir celbench
start=$SECONDS

log "building celbridge and celbench"
mkdir -p "$dir/bin"
go build -trimpath -o "$dir/bin/celbridge" ./cmd/celbridge
go build -trimpath -o "$dir/bin/celbench" ./cmd/celbench

# A bench server: generated data only, so no binlog and relaxed durability for a fast 1M-row
# load. The buffer pool holds the whole table (about 400 MB), as on a PBX whose CEL is hot.
mariadb_start --skip-log-bin --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 \
	--innodb-buffer-pool-size=1G --innodb-log-file-size=256M --max-connections=100

mkdir -p "$out"
if [[ -n ${BENCH_BASE:-} ]]; then
	[[ -x $BENCH_BASE ]] || die "BENCH_BASE=$BENCH_BASE is not an executable celbridge"
	ab() { # ab BINARY NAME CELBENCH_FLAGS...: one celbench run with that celbridge
		"$dir/bin/celbench" -dsn "root@unix($sock)/?multiStatements=true" -celbridge "$1" -mariadb "$(command -v mariadb)" \
			-work "$dir/work-$2" -slow-log "$dir/slow.log" -json /dev/null "${@:3}"
	}
	ab "$dir/bin/celbridge" load -phases load "$@" >/dev/null
	for i in $(seq "${BENCH_PAIRS:-3}"); do
		for v in base new; do
			bin=$dir/bin/celbridge
			[[ $v == base ]] && bin=$BENCH_BASE
			echo "=== $v, pair $i, load average $(cut -d' ' -f1 /proc/loadavg)"
			ab "$bin" "$v$i" -phases "load,${BENCH_PHASES:-send}" -reuse "$@" 2>&1 | grep '^celbench' || true
		done
	done | tee "$out/ab.txt"
	log "done in $((SECONDS - start))s; results in $out/ab.txt"
	exit 0
fi
"$dir/bin/celbench" -dsn "root@unix($sock)/?multiStatements=true" -celbridge "$dir/bin/celbridge" -mariadb "$(command -v mariadb)" \
	-work "$dir/work" -slow-log "$dir/slow.log" -json "$out/results.json" "$@" | tee "$out/results.md"

if [[ -z ${SKIP_GOBENCH:-} ]]; then
	log "go micro-benchmarks (mapper Feed, crm Encode/Push, store, source ReadAfter, outbox Drain)"
	TEST_MARIADB_DSN="root@unix($sock)/?multiStatements=true" CI=true \
		go test -run '^$' -bench . -benchmem -benchtime=1s ./mapper ./crm ./store ./freepbx ./cmd/celbench 2>&1 | tee "$out/gobench.txt"
fi
log "done in $((SECONDS - start))s; results in $out/"
