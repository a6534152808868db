#!/bin/sh
# Builds the engine NIF in release mode and installs it as priv/libkhepri_nif.so.
# Called by rebar3 and mix before they compile Erlang and Elixir.
set -e
cd "$(dirname "$0")/.."
cargo build --release --quiet -p khepri_nif
mkdir -p priv
case "$(uname -s)" in
    Darwin) lib=libkhepri_nif.dylib ;;
    *) lib=libkhepri_nif.so ;;
esac
# Copy to a new name then rename: a running VM keeps its mapping of the old file.
# A name of its own: rebar3 and mix may build at the same time.
cp "target/release/$lib" "priv/libkhepri_nif.so.tmp.$$"
mv "priv/libkhepri_nif.so.tmp.$$" priv/libkhepri_nif.so
