# shellcheck shell=bash
# Sourced by scripts/test-mariadb.sh and scripts/bench.sh: install MariaDB's server from
# Debian's packages when it is missing, and run a throwaway server in a temp dir on a unix
# socket. The caller sets me (the prefix of log lines). After mariadb_dir, the variables dir,
# sock and pid are set, and an EXIT trap stops the server and removes dir, on failure too.

log() { printf '%s: %s\n' "$me" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

command -v go >/dev/null || die "go not found (looked in PATH and /usr/local/go/bin)"

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

have_mariadb() { command -v mariadbd && command -v mariadb-install-db && command -v mariadb-admin; } >/dev/null

# mariadb_ensure installs mariadb-server and mariadb-client with apt-get unless present.
mariadb_ensure() {
	have_mariadb && return
	log "MariaDB server not found; installing mariadb-server with apt-get"
	command -v apt-get >/dev/null || die "mariadbd is missing and apt-get is not available; install MariaDB server"
	# Keep the package from starting a system-wide server: we start our own.
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
	have_mariadb || die "mariadbd, mariadb-install-db or mariadb-admin still missing (packages mariadb-server, mariadb-client)"
}

# mariadb_dir PREFIX makes the temp dir (a short path under /tmp: unix socket paths are
# limited to ~107 bytes) and sets the trap that cleans up.
mariadb_dir() {
	dir=$(mktemp -d "/tmp/$1.XXXXXX")
	sock="$dir/mysqld.sock"
	pid=
	trap mariadb_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

mariadb_cleanup() {
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

# mariadb_start [mariadbd options]: initialises a data dir in $dir and starts mariadbd on
# $sock with root over the socket and no password, then waits up to 60 s for it to answer.
mariadb_start() {
	local user_opt=() start=$SECONDS errlog="$dir/error.log" ready=
	[[ $(id -u) -eq 0 ]] && user_opt=(--user=root)
	log "initialising a data dir in $dir"
	if ! mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$dir/data" \
		--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve >"$dir/install.log" 2>&1; then
		cat "$dir/install.log" >&2
		die "mariadb-install-db failed (output above)"
	fi
	mariadbd --no-defaults "${user_opt[@]}" --datadir="$dir/data" --socket="$sock" \
		--skip-networking --pid-file="$dir/mariadbd.pid" --tmpdir="$dir" --log-error="$errlog" \
		--skip-name-resolve "$@" &
	pid=$!
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
}
