# celbridge: `make` lists the targets. Building needs Go (see go.mod); `make test` also runs a
# throwaway MariaDB server (installed with apt-get when missing).
.DEFAULT_GOAL := help
.PHONY: help build test demo bench lint install deb clean

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

PREFIX  ?= /usr/local
DESTDIR ?=

# The one way to create the service user: README "Install", `make install` and the package's
# postinst (packaging/deb/postinst) say the same line; scripts/test-deb.sh compares them.
USERADD := useradd --system --user-group --no-create-home --home-dir /var/lib/celbridge --shell /usr/sbin/nologin celbridge

# The package version: a tag without its v (v1.2.0 -> 1.2.0-1), or before any tag
# 0~gitYYYYMMDD.COMMIT-1, which sorts before every tagged release.
DEB_VERSION ?= $(shell t=$$(git describe --tags --match 'v[0-9]*' 2>/dev/null) && echo "$${t#v}" | tr - + || \
	echo "0~git$$(git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null).$$(git rev-parse --short=12 HEAD 2>/dev/null)")-1
DEB_ARCH    ?= $(shell go env GOARCH)

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## Build dist/celbridge: static (no cgo), version, commit and date stamped in
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o dist/celbridge ./cmd/celbridge
	@dist/celbridge version

test: ## gofmt, go vet, every test against a throwaway MariaDB, and the .deb (scripts/test-mariadb.sh)
	scripts/test-mariadb.sh

demo: build ## Replay bundled real calls into a built-in CRM receiver (no PBX needed)
	dist/celbridge demo

bench: ## The benchmark of BENCHMARKS.md (scripts/bench.sh; 6-8 minutes)
	scripts/bench.sh

lint: ## gofmt -l, go vet, and staticcheck when installed
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed; skipped (go install honnef.co/go/tools/cmd/staticcheck@latest)"; fi

install: build ## Install the binary, the systemd unit and (if none yet) the config; run as root
	install -D -m 0755 dist/celbridge $(DESTDIR)$(PREFIX)/bin/celbridge
	install -D -m 0644 etc/celbridge.service $(DESTDIR)/etc/systemd/system/celbridge.service
	@if [ "$(PREFIX)" != /usr/local ]; then sed -i 's|/usr/local/bin/celbridge|$(PREFIX)/bin/celbridge|' $(DESTDIR)/etc/systemd/system/celbridge.service; fi
	@if [ -e $(DESTDIR)/etc/celbridge/celbridge.toml ]; then echo "kept the existing /etc/celbridge/celbridge.toml"; \
	else install -D -m 0640 config.example.toml $(DESTDIR)/etc/celbridge/celbridge.toml && echo "installed /etc/celbridge/celbridge.toml: edit mysql.dsn and crm.url"; fi
	@echo "next: create the user:"
	@echo "  $(USERADD)"
	@echo "then chgrp celbridge /etc/celbridge/celbridge.toml, systemctl daemon-reload, and see README 'Install'"

# nfpm writes the .deb in Go, from the Go module proxy (pinned in tools/go.mod): no dpkg-dev,
# debhelper or Ruby (fpm) needed, the same on any machine that builds the binary.
deb: build ## Build dist/celbridge_VERSION_ARCH.deb (nfpm; packaging/deb/); scripts/test-deb.sh checks it
	rm -rf dist/deb && mkdir -p dist/deb
	sed 's|/usr/local/bin/celbridge|/usr/bin/celbridge|g' etc/celbridge.service >dist/deb/celbridge.service
	gzip -9n <packaging/deb/celbridge.1 >dist/deb/celbridge.1.gz
	printf -- '- semver: "%s"\n  deb: {urgency: medium, distributions: [stable]}\n  date: "%s"\n  packager: "celbridge maintainers <celbridge@example.com>"\n  changes:\n    - note: "Built from commit %s; the changes are in the git log."\n' \
		'$(DEB_VERSION)' '$(DATE)' '$(COMMIT)' >dist/deb/changelog.yaml
	rm -f dist/celbridge_*.deb
	DEB_VERSION='$(DEB_VERSION)' DEB_ARCH='$(DEB_ARCH)' go tool -modfile=tools/go.mod nfpm package \
		--config packaging/deb/nfpm.yaml --packager deb --target dist/

clean: ## Remove dist/
	rm -rf dist
