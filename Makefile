# The two commands of the README: `make demo` and `make test`.
# Both install what is missing first (scripts/install-deps.sh).

.PHONY: all deps build demo test test-rust test-erlang test-elixir lint bench yardstick fuzz clean

all: build

deps:
	sh scripts/install-deps.sh

# rebar3 builds the NIF (release mode) through its pre-compile hook.
build: deps
	rebar3 compile

demo: build
	./bin/demo

test: deps lint test-rust test-erlang test-elixir

# The second clippy run covers the stage marks of bench/timeline.sh, which
# only the `timeline` feature compiles.
lint:
	cargo fmt --all -- --check
	cargo clippy --release --workspace --all-targets --quiet -- -D warnings
	cargo clippy --release -p khepri_nif --features timeline --quiet -- -D warnings

test-rust:
	cargo test --release --workspace --exclude khepri_nif

test-erlang:
	rebar3 eunit

test-elixir:
	MIX_ENV=test mix format --check-formatted
	MIX_ENV=test mix compile --warnings-as-errors
	MIX_ENV=test mix test

bench: build
	bash bench/run.sh

yardstick: build
	bash bench/yardstick.sh

# The decoders' fuzz targets (native/khepri_fuzz), one after the other.
FUZZ_SECONDS ?= 600
FUZZ_TARGET ?= all
fuzz:
	cargo run --release -p khepri_fuzz -- run $(FUZZ_TARGET) --seconds $(FUZZ_SECONDS)

clean:
	rm -rf _build priv target deps
