#!/usr/bin/env bash
# Idempotent set-up of nhm on a fresh Debian machine (run as root, Python >= 3.11 on PATH):
# Debian packages, the virtual environment .venv/ and the package with its test dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages nhm needs (BLAS/FFTW/libxc for the GPAW backend; build tools for compiled wheels).
DEB_PACKAGES=(build-essential pkg-config libxc-dev libopenblas-dev libfftw3-dev)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "nhm set-up: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "nhm set-up: Python >= 3.11 is required (found $("$PYTHON" --version))" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv

# Reinstall only when the project metadata changed since the last successful install.
stamp=.venv/.nhm-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c 'import nhm' 2>/dev/null; then
    echo "nhm set-up: installing nhm and its Python dependencies into .venv/"
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
    echo "$want" > "$stamp"
fi
