#!/usr/bin/env bash
# Builds the library, runs the benchmark suite (khepri-rs and Mnesia in one
# VM; the cluster phase with 2 peer VMs, the memory phase in a fresh VM per
# backend and the churn phase in a fresh VM, which khepri_bench starts
# itself) and writes the report. About 25 minutes on 2 cores, 10 of them the
# churn phase (--churn-seconds N to shorten it, --no-churn to skip it).
#
#   bash bench/run.sh            full run: writes bench/REPORT.md
#   bash bench/run.sh --quick    any option is passed to khepri_bench; the
#                                report then goes to bench/results/REPORT.md
#                                so a smoke test never replaces the committed
#                                one
#
# BENCH_NO_BUILD=1 skips `rebar3 compile' and runs the build already in
# _build (e.g. while the working tree does not build).
#
# Raw PROBE/RESULT lines: bench/results/last.txt; full output:
# bench/results/output.txt (bench/results/ is gitignored).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
results="$root/bench/results"
mkdir -p "$results"

if [ "$#" -eq 0 ]; then
    report="$root/bench/REPORT.md"
else
    report="$results/REPORT.md"
fi

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    rebar3 compile
fi

tables="$(mktemp "$results/tables.XXXXXX")"
trap 'rm -f "$tables"' EXIT

# pipefail makes a failed run fail the script even though tee succeeds.
escript bench/run.escript --markdown "$tables" "$@" | tee "$results/output.txt"
grep -E '^(# khepri_bench|PROBE|RESULT|ERROR)' "$results/output.txt" \
    > "$results/last.txt"

# Machine and build facts for the header.
cpu="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
otp="$(erl -noshell -eval 'F = filename:join([code:root_dir(), "releases",
        erlang:system_info(otp_release), "OTP_VERSION"]),
    V = case file:read_file(F) of
            {ok, B} -> string:trim(B);
            _ -> erlang:system_info(otp_release)
        end,
    io:format("~s (erts ~s)", [V, erlang:system_info(version)]), halt().')"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes)"
fi
params="$(sed -n 's/^# khepri_bench //p' "$results/last.txt")"

{
    echo "# khepri-rs benchmark"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -sr)"
    echo "- Erlang/OTP: $otp"
    echo "- Commit: $commit"
    echo "- Run: \`$params\`"
    echo
    echo "Closed-loop clients in one VM, each backend on a fresh store:"
    echo "warmup, then every operation started inside the sampling window is"
    echo "counted and timed by its caller (p50/p99 from a log-linear"
    echo "histogram, under 1% error). Payload: a RabbitMQ-like queue record"
    echo "map (payload_bytes in external term format). The cluster phase adds"
    echo "2 peer VMs on this machine (this VM then runs distributed, on"
    echo "loopback). The memory phase runs in a fresh VM (a separate"
    echo "\`erl\` OS process) per backend, the churn phase last, in a fresh VM"
    echo "of its own."
    echo
    echo "Durability differs: a khepri-rs put returns after its Raft log"
    echo "entry is fdatasynced (writes arriving together share one"
    echo "fdatasync). A Mnesia \`disc_copies\` transaction returns once its"
    echo "commit record is queued to the transaction log (\`disk_log\`,"
    echo "no fdatasync per commit), so Mnesia put figures are not bounded by"
    echo "the fdatasync latency below."
    echo
    cat "$tables"
    echo "Reproduce: \`make bench\` (\`bash bench/run.sh\`); raw lines in"
    echo "\`bench/results/last.txt\`. The shared yardstick:"
    echo "\`bash bench/yardstick.sh --only put,get\`."
} > "$report"

echo
echo "report: ${report#"$root"/}"
echo "raw:    bench/results/last.txt"
