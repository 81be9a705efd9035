#!/usr/bin/env bash
# scripts/bench.sh [celbench flags]: the whole benchmark of BENCHMARKS.md in one run.
#
# Builds celbridge and cmd/celbench, starts a throwaway MariaDB server (a temp dir, unix socket
# only, no binlog, relaxed durability: it only holds generated data), then runs celbench:
# load 1,000,000 CEL rows, (a) raw stream rate, (b) backfill -dry-run, (c) backfill to a CRM
# stub, live latency at @every 1s and @every 250ms with rows examined per poll from the slow
# log, and peak memory with 10,000 calls open at once. Go micro-benchmarks of the mapper, the
# form encoder and the store follow. Takes about 6-8 minutes on 2 cores.
#
# Environment:
#   BENCH_OUT=dir     keep results (results.json, results.md, gobench.txt) here (default: bench-results/)
#   SKIP_GOBENCH=1    skip the go test -bench part
#
# mariadb-server is installed with apt-get when mariadbd is missing, as scripts/test-mariadb.sh
# does.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
out=${BENCH_OUT:-bench-results}

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo -n "$@"
	else
		die "need root to run: $*"
	fi
}

install_mariadb() {
	log "MariaDB server not found; installing mariadb-server with apt-get"
	command -v apt-get >/dev/null || die "mariadbd is missing and apt-get is not available; install MariaDB server"
	local policy=/usr/sbin/policy-rc.d made_policy=
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
		as_root chmod +x "$policy"
		made_policy=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		mariadb-server mariadb-client >/dev/null
	if [[ -n $made_policy ]]; then
		as_root rm -f "$policy"
	fi
}

command -v go >/dev/null || die "go not found (looked in PATH and /usr/local/go/bin)"
have_mariadb() { command -v mariadbd && command -v mariadb-install-db && command -v mariadb-admin; } >/dev/null
have_mariadb || install_mariadb
have_mariadb || die "mariadbd, mariadb-install-db or mariadb-admin still missing (packages mariadb-server, mariadb-client)"

dir=$(mktemp -d /tmp/celbench.XXXXXX)
sock="$dir/mysqld.sock"
errlog="$dir/error.log"
pid=

cleanup() {
	local rc=$?
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		mariadb-admin --no-defaults --socket="$sock" -uroot shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building celbridge and celbench"
mkdir -p "$dir/bin"
go build -trimpath -o "$dir/bin/celbridge" ./cmd/celbridge
go build -trimpath -o "$dir/bin/celbench" ./cmd/celbench

user_opt=()
[[ $(id -u) -eq 0 ]] && user_opt=(--user=root)

start=$SECONDS
mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$dir/data" \
	--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve >"$dir/install.log" 2>&1 ||
	{
		cat "$dir/install.log" >&2
		die "mariadb-install-db failed (output above)"
	}

# A bench server: generated data only, so no binlog and relaxed durability for a fast 1M-row
# load. The buffer pool holds the whole table (about 400 MB), as on a PBX whose CEL is hot.
mariadbd --no-defaults "${user_opt[@]}" --datadir="$dir/data" --socket="$sock" \
	--skip-networking --pid-file="$dir/mariadbd.pid" --tmpdir="$dir" --log-error="$errlog" \
	--skip-name-resolve --skip-log-bin --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 \
	--innodb-buffer-pool-size=1G --innodb-log-file-size=256M --max-connections=100 &
pid=$!

ready=
for _ in $(seq 120); do
	if mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1; then
		ready=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
if [[ -z $ready ]]; then
	cat "$errlog" >&2 2>/dev/null || true
	die "could not start MariaDB"
fi
log "MariaDB $(mariadbd --version | awk '{print $3}') ready on $sock after $((SECONDS - start))s"

mkdir -p "$out"
"$dir/bin/celbench" -dsn "root@unix($sock)/?multiStatements=true" -celbridge "$dir/bin/celbridge" \
	-work "$dir/work" -slow-log "$dir/slow.log" -json "$out/results.json" "$@" | tee "$out/results.md"

if [[ -z ${SKIP_GOBENCH:-} ]]; then
	log "go micro-benchmarks (mapper Feed, crm Encode/Push, store, source ReadAfter, outbox Drain)"
	TEST_MARIADB_DSN="root@unix($sock)/?multiStatements=true" CI=true \
		go test -run '^$' -bench . -benchmem -benchtime=1s ./mapper ./crm ./store ./poller ./cmd/celbench 2>&1 | tee "$out/gobench.txt"
fi
log "done in $((SECONDS - start))s; results in $out/"
