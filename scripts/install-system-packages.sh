#!/usr/bin/env bash
# Debian packages the project needs: WeasyPrint's Pango/HarfBuzz (libharfbuzz-subset0 makes
# PDFs 2.5x faster), fonts, gettext for the message catalogs, python3-venv, curl (the demo
# smoke, scripts/demo-smoke.sh), and Debian's Chromium for the browser tests (WITH_BROWSER=1).
set -euo pipefail

packages=(python3-venv python3-pip libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b
          libharfbuzz-subset0 fonts-dejavu-core gettext curl)
if [ "${WITH_BROWSER:-0}" = 1 ]; then
  packages+=(chromium)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "Run as root or install sudo: need ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "Installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
