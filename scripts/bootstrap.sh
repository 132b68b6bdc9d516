#!/usr/bin/env bash
# Set-up used by `make demo`, `make test` and `make bench`: everything a fresh
# Debian 12 machine with Python 3.11 needs, done once and skipped when done.
#
#   scripts/bootstrap.sh python     .venv with the pinned dependencies
#   scripts/bootstrap.sh postgis    PostgreSQL 15 + PostGIS 3 (Debian packages) unless MUJUN_DSN is set
#   scripts/bootstrap.sh gdal       gdal-bin (ogr2ogr, for benchmarks)
#   scripts/bootstrap.sh chromium   chromium + chromium-driver (browser tests)
#   scripts/bootstrap.sh fonts      fonts-noto-cjk (Chinese text in figures and PDF reports)
#   scripts/bootstrap.sh webassets  Leaflet and plugins from the npm registry into maps/web/node_modules
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
VENV=.venv

apt_install() {
    # apt_install PKG... : install Debian packages, or explain what to install.
    if [ "$(id -u)" != 0 ]; then
        echo "mujun: missing system packages: $*" >&2
        echo "       install them as root:  sudo apt-get install -y $*" >&2
        echo "       (or set MUJUN_DSN to use an existing PostGIS server)" >&2
        exit 1
    fi
    echo "mujun: installing Debian packages: $*" >&2
    export DEBIAN_FRONTEND=noninteractive
    # A stale package list makes installs fail with 404s; refresh once per hour at most.
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -60 2>/dev/null | head -1)" ]; then
        apt-get update -qq
    fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

python_env() {
    command -v "$PY" >/dev/null || { echo "mujun: $PY not found; install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv)" >&2; exit 1; }
    local want
    want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
    if [ -f "$VENV/.mujun-stamp" ] && [ "$(cat "$VENV/.mujun-stamp")" = "$want" ]; then
        return 0
    fi
    echo "mujun: installing Python dependencies into $VENV (pinned by constraints.txt)" >&2
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U "pip>=24"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
    echo "$want" > "$VENV/.mujun-stamp"
}

postgis() {
    if [ -n "${MUJUN_DSN:-}" ]; then
        return 0   # an external server is used; nothing to install locally
    fi
    local have_pg have_postgis
    have_pg=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | head -1 || true)
    have_postgis=$(ls /usr/share/postgresql/*/extension/postgis.control 2>/dev/null | head -1 || true)
    if [ -z "$have_pg" ] || [ -z "$have_postgis" ]; then
        apt_install postgresql-15 postgresql-15-postgis-3 postgresql-contrib
    fi
}

gdal() {
    command -v ogr2ogr >/dev/null || apt_install gdal-bin
}

chromium() {
    command -v chromium >/dev/null && command -v chromedriver >/dev/null || apt_install chromium chromium-driver
}

fonts() {
    fc-list :lang=zh 2>/dev/null | grep -q "Noto Sans CJK" || apt_install fonts-noto-cjk fontconfig
}

webassets() {
    # JavaScript/CSS served by the web pages, pinned by maps/web/package-lock.json;
    # installed once per lock file (pages never load them from the internet).
    command -v npm >/dev/null || apt_install nodejs npm
    local want stamp=maps/web/node_modules/.mujun-stamp
    want=$(sha256sum maps/web/package-lock.json | cut -c1-16)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "mujun: installing web assets (Leaflet) from the npm registry into maps/web/node_modules" >&2
    npm ci --prefix maps/web --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
    echo "$want" > "$stamp"
}

for step in "$@"; do
    case "$step" in
        python) python_env ;;
        postgis) postgis ;;
        gdal) gdal ;;
        chromium) chromium ;;
        fonts) fonts ;;
        webassets) webassets ;;
        *) echo "bootstrap: unknown step $step" >&2; exit 2 ;;
    esac
done
