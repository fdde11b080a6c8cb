#!/usr/bin/env bash
# Set up sapper on a fresh Debian machine (run as root).
#   ./install.sh          sapper itself, in .venv
#   ./install.sh --test   also what the tests need: PostgreSQL + PostGIS, GDAL tools, Chromium, node (enketo-core)
#   ./install.sh --lock   write constraints.txt anew: the newest releases that satisfy pyproject.toml
# Python packages come at the versions pinned in constraints.txt, so an install made today and one
# made next year are the same; refresh the pins with --lock, run the tests, and commit the file.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
if [[ "${1:-}" == "--lock" ]]; then
  fresh=$(mktemp -d)
  trap 'rm -rf "$fresh"' EXIT
  python3 -m venv "$fresh"
  "$fresh/bin/python" -m pip install -q --upgrade pip
  "$fresh/bin/python" -m pip install -q ".[test,bench]"
  {
    echo "# Versions every install uses (pip -c). Made by ./install.sh --lock from pyproject.toml; do not edit by hand."
    "$fresh/bin/python" -m pip freeze --all --exclude-editable | grep -Ev "^(sapper|setuptools|wheel)[= @]"
  } > constraints.txt
  echo "constraints.txt: $(grep -vc '^#' constraints.txt) pinned packages"
  exit 0
fi
# PDF documents: WeasyPrint lays out text through Pango; DejaVu and Noto carry Arabic and Cyrillic glyphs
packages="libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-noto-core"
missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [[ -n "$missing" ]]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [[ "${1:-}" == "--test" ]]; then
  # the PostGIS extension itself (Debian 12: PostgreSQL 15) is only a recommendation of "postgis"
  # poppler-utils: pdftotext and pdftoppm read the PDF documents back
  packages="postgresql postgis postgresql-15-postgis-3 gdal-bin python3-gdal chromium python3-qgis poppler-utils"
  missing=""
  for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [[ -n "$missing" ]]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  # the XForm engine the field form tests run in Chromium (enketo-core): node and npm, then the packages
  # pinned in tests/xform_engine/package-lock.json (the tests bundle them offline from node_modules)
  if ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  (cd tests/xform_engine && npm ci --no-audit --no-fund --loglevel=error)
  extras=".[test]"
else
  extras="."
fi
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip -c constraints.txt
.venv/bin/python -m pip install -q -c constraints.txt -e "$extras"
