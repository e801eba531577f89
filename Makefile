# wharf: the two commands of the Quick start are `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build build-release run test unit demo bench clean format fuzz soak

all: build

deps:
	@scripts/deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Starts wharfd with etc/wharf.toml: data in ./var, listening on 127.0.0.1:8080, the page at
# http://127.0.0.1:8080/. LISTEN=HOST:PORT listens elsewhere (passed as --listen, which comes
# before WHARF_LISTEN and the file's `listen`); DATA=DIR keeps the data elsewhere (--data).
LISTEN ?=
DATA ?=
RUN_LISTEN = $(or $(LISTEN),$(WHARF_LISTEN),$(shell sed -n 's/^listen *= *"\(.*\)".*/\1/p' etc/wharf.toml),127.0.0.1:8080)
run: build
	@l='$(RUN_LISTEN)'; server="http://$$l"; page="$$server/"; case "$$l" in \
	  0.0.0.0:*|\[::\]:*|:*) server="http://127.0.0.1:$${l##*:}"; \
	    page="http://HOST:$${l##*:}/ (HOST: this machine's address; $$server/ here)";; esac; \
	echo "make run: wharfd with etc/wharf.toml on $$l, data in $(or $(DATA),./var)"; \
	echo "  the page  $$page"; \
	echo "  the CLI   $(BUILD)/wharf login --server $$server -u admin   (make install puts wharf on PATH)"; \
	echo "  Ctrl-C stops it; make run LISTEN=HOST:PORT listens elsewhere"
	$(BUILD)/wharfd --config etc/wharf.toml $(if $(LISTEN),--listen '$(LISTEN)') $(if $(DATA),--data '$(DATA)')

# Builds and runs every test (unit and integration) through ctest.
test: build
	cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 900

# Builds only the unit test binaries (one per module) and runs their cases (ctest label
# `unit`), in under a minute on 2 cores once built.
unit: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target unit_tests
	cd $(BUILD) && ctest -L unit --output-on-failure -j $(JOBS) --timeout 120

# wharf against skopeo, podman and raw curl on a loopback registry, wharf's /v2/ against
# docker-registry serving the same blobs, an image export against cat of its blobs and an
# archive import against podman load, with a Release wharfd (about 28 minutes on 2 cores). Prints the table, writes bench/results/latest.md and appends a
# summary to BENCHMARKS.md. BENCH_FLAGS="--tiny" for a quick run; see bench/run.py --help.
bench: build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target wharfd
	WHARFD=$(BUILD)/wharfd python3 bench/run.py $(BENCH_FLAGS)

# A loopback docker-registry holding an image for every Docker entry of the catalogs, and a
# wharfd pulling from it on 127.0.0.1:8080 (LISTEN=HOST:PORT elsewhere), the page at
# http://127.0.0.1:8080/. Data in ./var/demo.
demo: build
	WHARFD=$(BUILD)/wharfd $(if $(LISTEN),WHARF_LISTEN='$(LISTEN)') scripts/demo

# Installs what `make build` made: make install [PREFIX=/usr/local] [DESTDIR=staging dir].
# Binaries in PREFIX/bin, the shipped data in PREFIX/share/wharf (where wharfd looks, next to
# its binary), the systemd unit in PREFIX/lib/systemd/system (ExecStart rewritten to
# PREFIX/bin/wharfd), and /etc/wharf/wharf.toml unless one exists already (it is yours).
# The man pages (wharf.1, wharfd.8) and the bash and zsh completions are printed by the
# binaries from their own command tables (wharf __man, wharfd __man, wharf __complete SHELL).
PREFIX ?= /usr/local
DESTDIR ?=
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
.PHONY: install
install:
	@test -x $(BUILD)/wharfd -a -x $(BUILD)/wharf || \
	  { echo "make install: no $(BUILD)/wharfd or $(BUILD)/wharf; run make build first" >&2; exit 1; }
	install -d -m 0755 $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/wharf \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)/etc/wharf $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 $(BUILD)/wharfd $(BUILD)/wharf $(DESTDIR)$(PREFIX)/bin/
	$(BUILD)/wharf __man > $(DESTDIR)$(MANDIR)/man1/wharf.1.tmp
	$(BUILD)/wharfd __man > $(DESTDIR)$(MANDIR)/man8/wharfd.8.tmp
	$(BUILD)/wharf __complete bash > $(DESTDIR)$(BASHCOMPDIR)/wharf.tmp
	$(BUILD)/wharf __complete zsh > $(DESTDIR)$(ZSHCOMPDIR)/_wharf.tmp
	for f in $(MANDIR)/man1/wharf.1 $(MANDIR)/man8/wharfd.8 $(BASHCOMPDIR)/wharf \
	  $(ZSHCOMPDIR)/_wharf; do chmod 0644 $(DESTDIR)$$f.tmp && mv $(DESTDIR)$$f.tmp $(DESTDIR)$$f; done
	cp -R share/. $(DESTDIR)$(PREFIX)/share/wharf/
	chmod -R u=rwX,go=rX $(DESTDIR)$(PREFIX)/share/wharf
	sed 's|/usr/local/bin/wharfd|$(PREFIX)/bin/wharfd|' etc/wharfd.service > $(DESTDIR)$(UNITDIR)/wharfd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/wharfd.service
	@if [ -e $(DESTDIR)/etc/wharf/wharf.toml ]; then \
	  echo "kept the existing $(DESTDIR)/etc/wharf/wharf.toml"; \
	else \
	  install -m 0644 etc/wharf.toml $(DESTDIR)/etc/wharf/wharf.toml; \
	fi

# Every libFuzzer target for FUZZ_SECONDS each (two at a time), and on until it has made
# FUZZ_MIN_RUNS executions, in a clang build of its own (build-fuzz); prints each target's
# executions and rates. See README, "Reliability".
FUZZ_SECONDS ?= 600
FUZZ_MIN_RUNS ?= 10000000
fuzz: deps
	fuzz/run.sh --seconds $(FUZZ_SECONDS) --min-runs $(FUZZ_MIN_RUNS) --build-dir build-fuzz

# The long reliability campaigns: load for SOAK_SECONDS under ASan+UBSan and under TSan,
# 20 kill -9 rounds, bad network, disk full (scripts/soak; sanitized builds in build/build-asan
# and build/build-tsan). About 20 minutes on 2 cores.
SOAK_SECONDS ?= 60
soak: deps
	SOAK_SECONDS=$(SOAK_SECONDS) scripts/soak

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD)
