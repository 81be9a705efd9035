#!/usr/bin/env bash
# scripts/test-mariadb.sh [go test flags]: gofmt, go vet and the whole test suite against a
# throwaway MariaDB server.
#
# The server lives in a temp dir (data, unix socket, pid file, error log), listens on no TCP
# port (--skip-networking), and is shut down and deleted on exit, also on failure or ^C.
# Tests reach it through TEST_MARIADB_DSN (root over the unix socket); internal/testdb gives
# each test its own database and a SELECT-only user.
#
# Environment:
#   PKGS="./poller/... ./internal/..."  packages to vet and test (default ./...)
#   CI=true                             tests that need MariaDB fail instead of skipping
#
# mariadb-server is installed with apt-get when mariadbd is missing (fresh CI machines).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
read -r -a pkgs <<<"${PKGS:-./...}"

log() { printf 'test-mariadb: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# as_root runs a command as root: directly, or through sudo when we are not root.
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
	# Keep the package from starting a system-wide server: we start our own below.
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

# A short path under /tmp: unix socket paths are limited to ~107 bytes.
dir=$(mktemp -d /tmp/celbridge-mariadb.XXXXXX)
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

user_opt=()
[[ $(id -u) -eq 0 ]] && user_opt=(--user=root)

start=$SECONDS
log "initialising a data dir in $dir"
if ! mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$dir/data" \
	--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve >"$dir/install.log" 2>&1; then
	cat "$dir/install.log" >&2
	die "mariadb-install-db failed (output above)"
fi

# Durability settings are off: the data is thrown away after the run.
mariadbd --no-defaults "${user_opt[@]}" --datadir="$dir/data" --socket="$sock" \
	--skip-networking --pid-file="$dir/mariadbd.pid" --tmpdir="$dir" --log-error="$errlog" \
	--skip-name-resolve --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
	--innodb-buffer-pool-size=64M --max-connections=500 &
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
	log "MariaDB did not answer a ping on $sock within 60s; its error log:"
	cat "$errlog" >&2 2>/dev/null || true
	die "could not start MariaDB"
fi
log "MariaDB $(mariadbd --version | awk '{print $3}') ready on $sock after $((SECONDS - start))s"

export TEST_MARIADB_DSN="root@unix($sock)/?multiStatements=true"

log "gofmt"
if [[ ${pkgs[*]} == "./..." ]]; then
	fmt_dirs=(.)
else
	mapfile -t fmt_dirs < <(go list -f '{{.Dir}}' "${pkgs[@]}")
fi
unformatted=$(gofmt -l "${fmt_dirs[@]}")
[[ -z $unformatted ]] || die "gofmt needed on:
$unformatted
run: gofmt -w on these files"

log "go vet ${pkgs[*]}"
go vet "${pkgs[@]}"

log "go test -race -count=1 $* ${pkgs[*]}"
go test -race -count=1 "$@" "${pkgs[@]}"
log "all green in $((SECONDS - start))s"
