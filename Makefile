# PLANET: `make run` builds and serves on http://127.0.0.1:8080 (ADDR=host:port
# to change); `make test` runs every test, native and in Chromium, installing
# what it needs first; `make bench` measures against plain-JS baselines.

ADDR    ?= 127.0.0.1:8080
BUILD   := build
WWW     := $(BUILD)/www
BIN     := $(BUILD)/bin
GOROOT  := $(shell go env GOROOT)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
WEBTEST := web/test

# Chromium for the browser tests, and the stock age tool that must decrypt an
# export, come from Debian's packages; the wasm test
# runner finds it through a `headless_shell` wrapper that adds the flags a
# root, offline, headless machine needs.
CHROMIUM_FLAGS := --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --use-fake-ui-for-media-stream --use-fake-device-for-media-stream \
	--allow-loopback-in-peer-connection

.PHONY: all build run test test-native test-wasm test-types test-e2e bench deps deps-browser deps-node clean

all: build

# --- build -------------------------------------------------------------------

WEB_FILES := $(shell find web -path web/test -prune -o -type f -print)

build: $(WWW)/planet.wasm $(WWW)/.web $(BIN)/serve
	@$(BIN)/serve -precompress -root $(WWW)

$(WWW)/planet.wasm: $(shell find core vault idb wasm webrtc -name '*.go') go.mod go.sum
	@mkdir -p $(WWW)
	GOOS=js GOARCH=wasm go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $@ ./wasm

# web/README.md and list-files.sh are for developers and are not shipped.
# The page's modules, style sheets and precached files are listed at build
# time, not by hand: list-files.sh writes them into the copies of index.html
# (<link rel=stylesheet>, <link rel=modulepreload>) and sw.js (its SHELL).
$(WWW)/.web: $(WEB_FILES)
	@mkdir -p $(WWW)
	find $(WWW) -mindepth 1 -not -name 'planet.wasm*' -delete
	tar -C web --exclude=./test --exclude=./list-files.sh --exclude=./README.md -cf - . | tar -C $(WWW) -xf -
	cp $(GOROOT)/lib/wasm/wasm_exec.js $(WWW)/wasm_exec.js
	sh web/list-files.sh $(WWW)
	@touch $@

$(BIN)/serve: $(shell find serve -name '*.go') go.mod go.sum
	go build -o $@ ./serve

run: build
	$(BIN)/serve -addr $(ADDR) -root $(WWW) -data $(BUILD)/data

# --- test --------------------------------------------------------------------

test: deps build test-native test-wasm test-types test-e2e

# webrtc's native test starts a go-libp2p relay on loopback and runs the
# package's browser tests in Chromium through wasmbrowsertest.
test-native: $(BIN)/wasmbrowsertest
	go vet ./...
	PLANET_REQUIRE_INTEROP=1 go test -race -count=1 ./...

# Go tests compiled to wasm run inside headless Chromium (real IndexedDB,
# real WebCrypto) through wasmbrowsertest.
# Every package the browser build has is vetted for it too, tests included
# (the bench runs core's benchmarks in Chromium).
test-wasm: $(BIN)/go_js_wasm_exec $(BIN)/headless_shell
	GOOS=js GOARCH=wasm go vet ./core/... ./vault/... ./idb/ ./wasm/... ./webrtc/
	PATH=$(CURDIR)/$(BIN):$$PATH GOOS=js GOARCH=wasm go test -count=1 ./idb/ ./wasm/...

# The page's JSDoc and planet.d.ts, type-checked by TypeScript (nothing is
# compiled); the service worker on its own, as it runs in a worker.
test-types: deps-node
	cd $(WEBTEST) && node_modules/.bin/tsc -p tsconfig.json && node_modules/.bin/tsc -p tsconfig.sw.json

test-e2e: deps-node
	cd $(WEBTEST) && node --test --test-concurrency=1 --test-timeout=600000 e2e/

bench: deps build
	cd $(WEBTEST) && node bench/bench.js

# --- what the tests need -----------------------------------------------------

deps: deps-browser deps-node $(BIN)/go_js_wasm_exec $(BIN)/headless_shell
	go mod download

deps-browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v age >/dev/null 2>&1; then \
		echo "installing Chromium and age from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium age >/dev/null; \
	fi

deps-node: $(WEBTEST)/node_modules/.installed

$(WEBTEST)/node_modules/.installed: $(WEBTEST)/package.json $(WEBTEST)/package-lock.json
	cd $(WEBTEST) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(BIN)/wasmbrowsertest:
	GOBIN=$(CURDIR)/$(BIN) go install github.com/agnivade/wasmbrowsertest@v0.11.0

$(BIN)/go_js_wasm_exec: $(BIN)/wasmbrowsertest
	ln -sf wasmbrowsertest $@

$(BIN)/headless_shell:
	@mkdir -p $(BIN)
	printf '#!/bin/sh\nexec /usr/bin/chromium $(CHROMIUM_FLAGS) "$$@"\n' > $@
	chmod +x $@

clean:
	rm -rf $(BUILD)
