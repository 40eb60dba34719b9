#!/usr/bin/env bash
# Installs every Debian package storsim needs to build, test, benchmark and fuzz.
# Idempotent: packages already present are not touched, and apt is not even
# consulted when nothing is missing. Works as root and through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang libclang-rt-14-dev            # libFuzzer and sanitizers
  libboost-context-dev
  libabsl-dev
  librapidcheck-dev
  libgtest-dev libgmock-dev
  libbenchmark-dev
  libpq-dev postgresql                # conformance tests against a real PostgreSQL
  chromium                            # report rendering test (headless)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 2
  fi
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
