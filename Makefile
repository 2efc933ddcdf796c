# vmastress: `make run` and `make test` do all the set-up on a fresh Debian machine.
SWIFT      ?= swift
BIN        := .build/release/vmastress
DEB_PKGS   := liburcu-dev libnuma-dev
PC_MODULES := liburcu-memb numa
# The default run (about a minute and a half): every correct strategy and the host kernel side by side on
# will-it-scale page_fault1, 3 interleaved repetitions each, faults calibrated against the kernel, checker on.
# Override with RUN_ARGS=...
# A comparison of speeds: --preempt off keeps --check full's injected preemption out of its numbers.
RUN_ARGS   ?= --strategy correct --workload page_fault1 --faulters 2 --duration 2s --warmup 500ms --repetitions 3 --fault-work calibrated --mutation-work calibrated --preempt off --json results/run.json
# The benchmark suite `make bench` runs (bench/suites/default.suite, about 6 minutes on 2 cores).
BENCH_ARGS ?= default --out results/bench
# The soak `make test` ends with: 30 s in phases of 4 s, through its rotation of strategies (6 of its 7). Override with SOAK_ARGS=...
SOAK_ARGS  ?= --duration 30s --phase 4s --json results/soak.json --junit results/soak-junit.xml

.PHONY: all deps build run test test-unit test-torture test-cli bench mutants fuzz sanitize install uninstall clean

all: build

# Installs liburcu-dev and libnuma-dev with apt-get when their pkg-config files are missing.
deps:
	@if pkg-config --exists $(PC_MODULES) 2>/dev/null; then \
		echo "deps: liburcu and libnuma present"; \
	else \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; \
		elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
		else echo "deps: missing $(DEB_PKGS); install them as root: apt-get install $(DEB_PKGS)" >&2; exit 1; fi; \
		if ! command -v apt-get >/dev/null 2>&1; then \
			echo "deps: missing $(DEB_PKGS) and no apt-get here; install liburcu and libnuma development files by hand" >&2; exit 1; fi; \
		echo "deps: installing $(DEB_PKGS)"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEB_PKGS) >/dev/null || \
			{ echo "deps: apt-get could not install $(DEB_PKGS); install them by hand" >&2; exit 1; }; \
		pkg-config --exists $(PC_MODULES) || { echo "deps: installed, but pkg-config still cannot find $(PC_MODULES)" >&2; exit 1; }; \
	fi

build: deps
	$(SWIFT) build -c release

run: build
	@mkdir -p results
	$(BIN) run $(RUN_ARGS)

bench: build
	@mkdir -p results
	$(BIN) bench $(BENCH_ARGS)

# Tests build optimised (the race windows the checker needs are timing-sensitive),
# with @testable imports, in their own build folder so `make run` keeps its own.
# Then a 30-second soak in 4 s phases through its rotation of strategies (random seed, printed).
test: deps
	$(SWIFT_TEST)
	@mkdir -p results
	.build-test/release/vmastress soak $(SOAK_ARGS)

# The test tiers, each a subset of `make test` on the same build (.build-test): torture (threads
# racing the checker: every twin caught, every correct strategy clean, the kernel backend), cli (the
# binary as a user runs it, signals, option values, docs against the code), unit (the rest, about
# a minute). A suite not named in TORTURE or CLI is a unit test.
TORTURE_TESTS := BustedTwinTests|StrategyTests|RefcountTests|KernelBackendTests|LivenessTests|IntegrationTests|WillItScaleTests|PrimitiveValidationTests|FaultWorkTests|ConcurrentIndexTests|ForcedInterleavingTests
CLI_TESTS     := CLITests|SignalTests|PlacementCLITests|GeneratedOptionTests|MalformedInvocationTests|PrimitiveCommandTests|FuzzCorpusTests|LayerTests|TwinForwardingTests
SWIFT_TEST    := $(SWIFT) test -c release -Xswiftc -enable-testing --scratch-path .build-test --no-parallel
test-unit: deps
	$(SWIFT_TEST) --skip 'VMAStressTests\.($(TORTURE_TESTS)|$(CLI_TESTS))\b'
test-torture: deps
	$(SWIFT_TEST) --filter 'VMAStressTests\.($(TORTURE_TESTS))\b'
test-cli: deps
	$(SWIFT_TEST) --filter 'VMAStressTests\.($(CLI_TESTS))\b'

# libFuzzer on every reader of outside input (suite files, results.json, option values, mixes,
# paths), FUZZ_SECONDS each (default 120), from bench/fuzz/corpus; not part of `make test`,
# which replays the seed corpus through the same targets.
FUZZ_SECONDS ?= 120
fuzz: deps
	$(SWIFT) build -c release --product vmastress-fuzz --scratch-path .build-fuzz \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -DVMASTRESS_LIBFUZZER
	FUZZ_SECONDS=$(FUZZ_SECONDS) bench/fuzz/run.sh

# AddressSanitizer: every correct strategy and busted twin for SANITIZE_SECONDS each (default 4;
# about 5 minutes to build, 2 to run); the twins must be caught by the checker, not by ASan.
SANITIZE_SECONDS ?= 4
sanitize: deps
	$(SWIFT) build -c release --product vmastress --scratch-path .build-asan -Xswiftc -sanitize=address
	SANITIZE_SECONDS=$(SANITIZE_SECONDS) bench/sanitize.sh

# Mutation testing of the checker (not part of `make test`: about 45 minutes on 2 cores):
# each mutant of bench/mutants/catalogue.py is applied to a copy of the tree, rebuilt without
# whole-module optimisation and run on 3 seeds; the table goes to results/mutants.md.
mutants: deps
	@mkdir -p results
	python3 bench/mutants/run.py --out results/mutants.md

# `make install` (PREFIX=/usr/local, DESTDIR for staging): the release binary, its man page
# (swift-argument-parser's generate-manual plugin, from the options --help shows) and its bash,
# zsh and fish completions (from the same options, by the binary itself).
PREFIX  ?= /usr/local
DESTDIR ?=
SHARE   := $(DESTDIR)$(PREFIX)/share
install: build
	@rm -rf .build/man .build/completions && mkdir -p .build/man .build/completions
	$(SWIFT) package --allow-writing-to-directory .build/man generate-manual --output-directory .build/man >/dev/null
	$(BIN) --generate-completion-script bash > .build/completions/vmastress
	$(BIN) --generate-completion-script zsh > .build/completions/_vmastress
	$(BIN) --generate-completion-script fish > .build/completions/vmastress.fish
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/man/man1 $(SHARE)/bash-completion/completions \
		$(SHARE)/zsh/site-functions $(SHARE)/fish/vendor_completions.d
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/vmastress
	install -m 644 .build/man/vmastress.1 $(SHARE)/man/man1/vmastress.1
	install -m 644 .build/completions/vmastress $(SHARE)/bash-completion/completions/vmastress
	install -m 644 .build/completions/_vmastress $(SHARE)/zsh/site-functions/_vmastress
	install -m 644 .build/completions/vmastress.fish $(SHARE)/fish/vendor_completions.d/vmastress.fish
	@echo "installed vmastress in $(DESTDIR)$(PREFIX)/bin, its man page and completions under $(SHARE)"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/vmastress $(SHARE)/man/man1/vmastress.1 \
		$(SHARE)/bash-completion/completions/vmastress $(SHARE)/zsh/site-functions/_vmastress \
		$(SHARE)/fish/vendor_completions.d/vmastress.fish

clean:
	rm -rf .build .build-test .build-mutants results
