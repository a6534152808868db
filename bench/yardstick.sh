#!/usr/bin/env bash
# Runs the shared yardstick (../shared/yardstick/kbench.erl, outside this
# repository) against this library, then against Mnesia, the way its header
# says: compiled with erlc to a temp dir, run under a loopback-distributed
# node. Extra arguments go to kbench, e.g.:
#
#   bash bench/yardstick.sh --only put,get
#   bash bench/yardstick.sh --only put,get --warmup-ms 300 --measure-ms 1000
#
# Prints both runs' output, then their RESULT lines together. The node name
# is the header's kbench@127.0.0.1; set KBENCH_NODE=other@127.0.0.1 when
# another yardstick run holds that name.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
yardstick="$root/../shared/yardstick/kbench.erl"
if [ ! -f "$yardstick" ]; then
    echo "yardstick: $yardstick not found; skipping"
    exit 0
fi

ebin="$root/_build/rebar3/default/lib/khepri/ebin"
if [ ! -f "$ebin/khepri.app" ]; then
    (cd "$root" && rebar3 compile)
fi

# Not "khepri-...": code:priv_dir(khepri) would take a code-path dir of
# that name for the khepri application and look for the NIF there.
tmp="$(mktemp -d /tmp/kbench-yardstick.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
erlc -o "$tmp" "$yardstick"

status=0
for backend in khepri mnesia; do
    echo "== yardstick --backend $backend $*"
    # A failing backend is reported; the other one still runs.
    if ! erl -noshell -name "${KBENCH_NODE:-kbench@127.0.0.1}" \
            -kernel inet_dist_use_interface '{127,0,0,1}' \
            -pa "$ebin" -pa "$tmp" \
            -s kbench main -extra --backend "$backend" "$@" \
            | tee "$tmp/$backend.out"; then
        echo "yardstick: --backend $backend failed"
        status=1
    fi
done

echo
echo "== RESULT lines"
cat "$tmp"/khepri.out "$tmp"/mnesia.out 2>/dev/null | grep -E '^(PROBE|RESULT)' || true
exit "$status"
