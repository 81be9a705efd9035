# celbridge: `make` lists the targets. Building needs Go (see go.mod); `make test` also runs a
# throwaway MariaDB server (installed with apt-get when missing).
.DEFAULT_GOAL := help
.PHONY: help build test demo bench lint install clean

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

PREFIX  ?= /usr/local
DESTDIR ?=

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## Build dist/celbridge: static (no cgo), version, commit and date stamped in
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o dist/celbridge ./cmd/celbridge
	@dist/celbridge version

test: ## gofmt, go vet and every test against a throwaway MariaDB (scripts/test-mariadb.sh)
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
	@echo "next: create the user (useradd --system --no-create-home --shell /usr/sbin/nologin celbridge),"
	@echo "      chgrp celbridge /etc/celbridge/celbridge.toml, systemctl daemon-reload, then see README 'Install'"

clean: ## Remove dist/
	rm -rf dist
