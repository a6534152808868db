#!/usr/bin/env bash
# Where a replicated write's time goes (bench/khepri_timeline.erl): builds
# the NIF with the `timeline` feature into target/timeline (the normal build
# is left alone), runs 3 members on loopback with one writer for 5 s, and
# prints the median time between the stages of a write.
#
#   bash bench/timeline.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
rebar3 compile >/dev/null
cargo build --release --quiet -p khepri_nif --features timeline --target-dir target/timeline

# The application directory must be named khepri for code:priv_dir/1.
tmp="$(mktemp -d /tmp/kbench-timeline.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/khepri/priv" "$tmp/bench" "$tmp/marks"
cp -r _build/rebar3/default/lib/khepri/ebin "$tmp/khepri/"
cp target/timeline/release/libkhepri_nif.so "$tmp/khepri/priv/"
erlc -o "$tmp/bench" bench/khepri_timeline.erl

KHEPRI_TIMELINE_DIR="$tmp/marks" erl -noshell -name "timeline$$@127.0.0.1" \
    -kernel inet_dist_use_interface '{127,0,0,1}' \
    -pa "$tmp/khepri/ebin" -pa "$tmp/bench" -s khepri_timeline main
