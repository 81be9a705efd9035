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
#   CLOCK_SHIFT=9600h                   the second pass's clock shift (0: no second pass)
#   SKIP_DEB=1                          skip scripts/test-deb.sh (run when PKGS is ./...)
#
# mariadb-server (and php-cli) are installed with apt-get when missing (fresh CI machines).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
read -r -a pkgs <<<"${PKGS:-./...}"

me=test-mariadb
# shellcheck source=lib/mariadb.sh
source scripts/lib/mariadb.sh
mariadb_ensure
# php-cli signs the CRM's API requests in the end-to-end test, independently of our Go code
# (cmd/celbridge/api_test.go), as the CRM's own PHP does.
if ! command -v php >/dev/null; then
	log "php not found; installing php-cli with apt-get"
	command -v apt-get >/dev/null || die "php is missing and apt-get is not available; install php-cli"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends php-cli >/dev/null
	command -v php >/dev/null || die "php still missing after installing php-cli"
fi
mariadb_dir celbridge-mariadb
start=$SECONDS
# Durability settings are off: the data is thrown away after the run.
mariadb_start --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
	--innodb-buffer-pool-size=64M --max-connections=500

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
# The Debian package: built and checked with lintian, under CI also installed and purged
# (scripts/test-deb.sh), beside the second pass, which leaves a core free.
deb_pid=
if [[ ${pkgs[*]} == "./..." && -z ${SKIP_DEB:-} ]]; then
	log "scripts/test-deb.sh in the background (output at the end)"
	scripts/test-deb.sh >"$dir/test-deb.log" 2>&1 &
	deb_pid=$!
fi
# No test may depend on the day it runs: the suite again with every clock the code reads
# moved 400 days ahead (internal/clock; CLOCK_SHIFT=0 skips this pass).
shift=${CLOCK_SHIFT:-9600h}
shift_rc=0
if [[ $shift != 0 ]]; then
	log "go test -tags clockshift (CELBRIDGE_CLOCK_SHIFT=$shift) -count=1 $* ${pkgs[*]}"
	CELBRIDGE_CLOCK_SHIFT=$shift go test -tags clockshift -count=1 "$@" "${pkgs[@]}" || shift_rc=$?
fi
# Waited for even when the pass failed: it may be installing the package.
if [[ -n $deb_pid ]]; then
	deb_rc=0
	wait "$deb_pid" || deb_rc=$?
	cat "$dir/test-deb.log" >&2
	[[ $deb_rc -eq 0 ]] || die "scripts/test-deb.sh failed (its output above)"
fi
[[ $shift_rc -eq 0 ]] || die "the clockshift pass failed (above)"
log "all green in $((SECONDS - start))s"
