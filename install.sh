#!/usr/bin/env bash
# Set up sapper on a fresh Debian machine (run as root).
#   ./install.sh          sapper itself, in .venv
#   ./install.sh --test   also what the tests need: PostgreSQL + PostGIS, GDAL tools, Chromium
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
if [[ "${1:-}" == "--test" ]]; then
  # the PostGIS extension itself (Debian 12: PostgreSQL 15) is only a recommendation of "postgis"
  packages="postgresql postgis postgresql-15-postgis-3 gdal-bin python3-gdal chromium python3-qgis"
  missing=""
  for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [[ -n "$missing" ]]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  extras=".[test]"
else
  extras="."
fi
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e "$extras"
