#!/bin/sh
# The crash harness, one command (README, "Crash harness"):
#
#   nice -n 19 sh test/crash/run.sh [CLUSTER_TRIALS [SINGLE_KILLS]]
#
# Defaults: 50 trials on a 3-member cluster, then 50 kills of a single
# member. Builds the NIF and the test modules, runs `khepri_crash:main/1' on a
# harness node of its own; exit status 0 when every trial passed.
set -e
cd "$(dirname "$0")/../.."
rebar3 as test compile
lib=_build/rebar3/test/lib/khepri
exec erl -noshell -sname "khepri_crash_harness_$$" \
    -pa "$lib/ebin" -pa "$lib/test" \
    -run khepri_crash main "${1:-50}" "${2:-50}"
