#!/usr/bin/env bash
# Installs what building, running and testing recovery-gateway needs on Debian/Ubuntu, once:
# libcurl's -dev package, curl, postfix (for smtp-sink and smtp-source, not as a mail server),
# PostgreSQL's server (the tests run a throwaway cluster of their own), Python 3 with venv, wrk and
# valgrind for the benchmarks, gdb and procps for the stacks of a test run that hangs (scripts/test.sh),
# Chromium and chromedriver for the console's browser tests, nginx as
# their proxy in front of two replicas, shellcheck for the lint, systemd-analyze and readelf for the
# deploy tests, podman, runc and debootstrap for the image test, and the Python packages of
# Tests/requirements.txt in .venv. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libcurl4-openssl-dev pkg-config ca-certificates curl postfix python3 python3-venv python3-pip wrk valgrind gdb procps)
# ShellCheck for scripts/lint.sh (the shell scripts' linter; ruff comes with the Python packages).
packages+=(shellcheck)
# PostgreSQL's server for the PostgreSQL store's tests (scripts/postgres.sh runs a throwaway cluster).
packages+=(postgresql)
# Debian's Chromium and its WebDriver: the console's browser tests (Tests/e2e/test_console.py) drive it headless.
packages+=(chromium chromium-driver)
# podman with runc, and debootstrap for its base image: Tests/deploy/test_image.py builds and runs the image.
packages+=(podman runc debootstrap)
# nginx as the round-robin proxy in front of two gateways (Tests/e2e/test_console_oidc.py); the
# tests run it with a configuration of their own, never as a system service.
packages+=(nginx)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# Tests/deploy: systemd-analyze (systemd) checks the unit, readelf (binutils) the binary's libraries;
# looked for as commands, since an image may carry them without their package.
for tool in systemd-analyze:systemd readelf:binutils; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    # Postfix is only wanted for its test programs: no mail system is configured or started.
    echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python3 ] || ! cmp -s Tests/requirements.txt .venv/requirements.txt; then
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r Tests/requirements.txt
    cp Tests/requirements.txt .venv/requirements.txt
fi
