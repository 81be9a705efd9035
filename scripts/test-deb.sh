#!/usr/bin/env bash
# scripts/test-deb.sh: build the Debian package (make deb) and check it.
#
# Always: its control data, conffiles, files, owners and modes with dpkg-deb; the unit, config
# and postinst it carries; the useradd line said the same in README, Makefile and postinst; and
# lintian (installed with apt-get when missing), which must report no tag that
# packaging/deb/lintian-overrides does not justify.
#
# With CI=true (or DEB_INSTALL=1), on this Debian machine: dpkg -i, then the user, the owners and
# modes, who can read the config, `celbridge version`; dpkg -r keeps the edited config and the
# state; a reinstall keeps the edit; dpkg -P removes both. Refuses to start when a celbridge
# package is already installed: it would be purged.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

me=test-deb
# shellcheck source=lib/mariadb.sh
source scripts/lib/mariadb.sh # log, die, as_root
start=$SECONDS

# want DESCRIPTION COMMAND...: the command must succeed.
want() {
	local what=$1
	shift
	"$@" >/dev/null 2>&1 || die "$what (failed: $*)"
}

# mode_is PATH MODE OWNER GROUP
mode_is() {
	local got
	got=$(stat -c '%a %U %G' "$1") || die "$1 is missing"
	[[ $got == "$2 $3 $4" ]] || die "$1: mode/owner/group are '$got', want '$2 $3 $4'"
}

log "make deb"
make --no-print-directory deb >/dev/null
debs=(dist/celbridge_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || die "make deb made ${#debs[@]} packages in dist/, want one"
deb=${debs[0]}

log "dpkg-deb: control data and files of $deb"
work=$(mktemp -d /tmp/celbridge-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
field() { dpkg-deb --field "$deb" "$1"; }
[[ $(field Package) == celbridge ]] || die "Package is '$(field Package)'"
[[ $(field Architecture) == "$(go env GOARCH)" ]] || die "Architecture is '$(field Architecture)'"
[[ $deb == "dist/celbridge_$(field Version)_$(field Architecture).deb" ]] || die "$deb: Version is '$(field Version)'"
dpkg-deb --control "$deb" "$work/control"
[[ $(cat "$work/control/conffiles") == /etc/celbridge/celbridge.toml ]] ||
	die "conffiles is '$(cat "$work/control/conffiles")', want /etc/celbridge/celbridge.toml alone"
dpkg-deb --contents "$deb" | awk '{print $1, $2, $6}' >"$work/contents"
for want in \
	'-rwxr-xr-x root/root ./usr/bin/celbridge' \
	'-rw-r----- root/root ./etc/celbridge/celbridge.toml' \
	'-rw-r--r-- root/root ./lib/systemd/system/celbridge.service' \
	'drwxr-xr-x root/root ./var/lib/celbridge/' \
	'-rw-r--r-- root/root ./usr/share/doc/celbridge/copyright' \
	'-rw-r--r-- root/root ./usr/share/man/man1/celbridge.1.gz'; do
	grep -qxF -- "$want" "$work/contents" || die "the package lacks '$want'; it has:
$(cat "$work/contents")"
done
! grep -q '/usr/local' "$work/contents" || die "the package installs into /usr/local"
dpkg-deb --extract "$deb" "$work/root"
cmp -s config.example.toml "$work/root/etc/celbridge/celbridge.toml" ||
	die "the packaged celbridge.toml differs from config.example.toml"
grep -qx 'ExecStart=/usr/bin/celbridge run -config /etc/celbridge/celbridge.toml' \
	"$work/root/lib/systemd/system/celbridge.service" || die "the packaged unit does not start /usr/bin/celbridge"
[[ $("$work/root/usr/bin/celbridge" version) == 'celbridge '* ]] || die "the packaged binary does not run"
for want in "GRANT SELECT ON asteriskcdrdb.cel TO 'celbridge'@'localhost';" \
	'celbridge check -config /etc/celbridge/celbridge.toml' 'systemctl enable --now celbridge'; do
	grep -qF -- "$want" "$work/control/postinst" || die "postinst's message lacks: $want"
done

log "the useradd line: Makefile, README, postinst and the unit say the same"
useradd_line=$(sed -n 's/^USERADD := //p' Makefile)
[[ $useradd_line == useradd* ]] || die "no 'USERADD := useradd …' line in Makefile"
for f in README.md packaging/deb/postinst etc/celbridge.service; do
	grep -qF -- "$useradd_line" "$f" || die "$f does not say: $useradd_line"
done
[[ $(make --no-print-directory -n install) == *"$useradd_line"* ]] || die "make install does not print: $useradd_line"

if ! command -v lintian >/dev/null; then
	log "lintian not found; installing it with apt-get"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lintian >/dev/null
fi
log "lintian $(lintian --version | awk '{print $2}')"
# Every tag down to info and pedantic fails, unless the package's own overrides justify it.
lintian_rc=0
lintian --pedantic --display-info --fail-on error,warning,info,pedantic "$deb" >"$work/lintian.log" 2>&1 || lintian_rc=$?
grep -v '^running with root privileges' "$work/lintian.log" >&2 || true
[[ $lintian_rc -eq 0 ]] ||
	die "lintian reported the tags above; fix them or justify an override in packaging/deb/lintian-overrides"

if [[ ${CI:-} != true && -z ${DEB_INSTALL:-} ]]; then
	log "package checked in $((SECONDS - start))s (CI=true or DEB_INSTALL=1 also installs and purges it)"
	exit 0
fi

[[ $(id -u) -eq 0 ]] || die "installing the package needs root"
if dpkg-query -W -f '${Status}' celbridge 2>/dev/null | grep -qv 'not-installed'; then
	die "a celbridge package is already on this machine; this test would purge it (dpkg -P celbridge first)"
fi
# Purge whatever this test installed, on failure too.
trap 'dpkg -P celbridge >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

log "dpkg -i"
dpkg -i "$deb" >"$work/install.log" 2>&1 || die "dpkg -i failed: $(cat "$work/install.log")"
grep -qF "GRANT SELECT ON asteriskcdrdb.cel" "$work/install.log" || die "dpkg -i printed no GRANT"
IFS=: read -r _ _ _ _ _ home shell < <(getent passwd celbridge) || die "no celbridge user after install"
[[ $home == /var/lib/celbridge && $shell == /usr/sbin/nologin ]] || die "celbridge user: home $home, shell $shell"
want "the celbridge user is a system user" test "$(id -u celbridge)" -lt 1000
want "a celbridge group" getent group celbridge
mode_is /usr/bin/celbridge 755 root root
mode_is /etc/celbridge 750 root celbridge
mode_is /etc/celbridge/celbridge.toml 640 root celbridge
mode_is /var/lib/celbridge 750 celbridge celbridge
mode_is /lib/systemd/system/celbridge.service 644 root root
want "celbridge version runs" /usr/bin/celbridge version
want "the celbridge user reads the config" runuser -u celbridge -- cat /etc/celbridge/celbridge.toml
if runuser -u nobody -- cat /etc/celbridge/celbridge.toml >/dev/null 2>&1; then
	die "another user (nobody) can read /etc/celbridge/celbridge.toml"
fi
want "the celbridge user writes the state directory" runuser -u celbridge -- touch /var/lib/celbridge/state.db

log "dpkg -r: the config (edited) and the state stay"
echo '# edited by test-deb.sh' >>/etc/celbridge/celbridge.toml
dpkg -r celbridge >"$work/remove.log" 2>&1 || die "dpkg -r failed: $(cat "$work/remove.log")"
[[ ! -e /usr/bin/celbridge && ! -e /lib/systemd/system/celbridge.service ]] || die "dpkg -r left the binary or the unit"
want "dpkg -r keeps the edited config" grep -q 'edited by test-deb.sh' /etc/celbridge/celbridge.toml
want "dpkg -r keeps the state" test -f /var/lib/celbridge/state.db

log "dpkg -i again: the edit stays, the owners are set again"
dpkg -i "$deb" >"$work/install.log" 2>&1 || die "dpkg -i (again) failed: $(cat "$work/install.log")"
want "a reinstall keeps the edited config" grep -q 'edited by test-deb.sh' /etc/celbridge/celbridge.toml
mode_is /etc/celbridge/celbridge.toml 640 root celbridge

log "dpkg -P: the config and the state are gone"
dpkg -P celbridge >"$work/purge.log" 2>&1 || die "dpkg -P failed: $(cat "$work/purge.log")"
for p in /etc/celbridge /var/lib/celbridge /usr/bin/celbridge /lib/systemd/system/celbridge.service; do
	[[ ! -e $p ]] || die "dpkg -P left $p"
done
if dpkg-query -W -f '${Status}' celbridge 2>/dev/null | grep -qv 'not-installed'; then
	die "dpkg still knows celbridge after purge: $(dpkg-query -W -f '${Status}' celbridge)"
fi
log "package built, checked, installed, removed and purged in $((SECONDS - start))s"
