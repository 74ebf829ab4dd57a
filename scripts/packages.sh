#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (.ci/apt-packages.txt)
# that are not installed yet. Needs root for apt-get; without it, says what to run.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for package in $(grep -v '^#' .ci/apt-packages.txt); do
  dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "the tests need these Debian packages: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
