#!/bin/sh
# Installs what building and testing khepri-rs needs and is missing:
# Erlang/OTP, rebar3 and Elixir from Debian's packages, a C linker, and the
# Rust crates (fetched by cargo from crates.io). Does nothing when all is there.
set -eu
cd "$(dirname "$0")/.."

need=""
command -v erl >/dev/null 2>&1 || need="$need erlang-nox erlang-dev erlang-eunit erlang-tools"
command -v rebar3 >/dev/null 2>&1 || need="$need rebar3"
command -v mix >/dev/null 2>&1 || need="$need elixir"
command -v cc >/dev/null 2>&1 || need="$need build-essential"
command -v cargo >/dev/null 2>&1 || need="$need cargo rustc"
# EUnit and the dev headers are separate packages on Debian.
if command -v erl >/dev/null 2>&1; then
    erl -noshell -eval 'case code:which(eunit) of non_existing -> halt(1); _ -> halt(0) end.' \
        || need="$need erlang-eunit"
fi

if [ -n "$need" ]; then
    echo "==> installing:$need"
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
fi

# rustler 0.39 needs Rust 1.91 or newer.
rustc_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "$rustc_minor" -lt 91 ]; then
    echo "error: Rust 1.91 or newer is required (found $(rustc --version)); install it with rustup" >&2
    exit 1
fi

cargo fetch --quiet
