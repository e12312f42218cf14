#!/usr/bin/env bash
# Idempotent set-up of nhm on a fresh Debian machine (run as root, Python >= 3.11 on PATH):
# Debian packages, the virtual environment .venv/, the package with its test dependencies and
# GPAW (nhm's first-principles band-structure backend), built from source against Debian's libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages nhm needs (BLAS/FFTW/libxc for the GPAW backend; build tools for compiled wheels;
# PostgreSQL, whose server the tests of `nhm screen --db postgresql://...` start in a temporary directory).
DEB_PACKAGES=(build-essential pkg-config libxc-dev libopenblas-dev libfftw3-dev postgresql)
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

# GPAW: no wheel on PyPI, and a plain `pip install gpaw` fails (GPAW 26 compiles its .c files as C++,
# Python's default compiler is gcc). scripts/gpaw-siteconfig.py builds it serially with g++, OpenBLAS,
# FFTW and libxc. PAW setups come from the PyPI package gpaw-data (found by GPAW without set-up).
GPAW_VERSION=26.7.0
GPAW_DATA_VERSION=1.2.1
gpaw_check() {  # exit 0 iff the pinned GPAW is installed with its C extension, libxc, FFTW, BLAS and setups
    .venv/bin/python - "$GPAW_VERSION" <<'PY'
import sys
from pathlib import Path
want = sys.argv[1]
try:
    import _gpaw  # the C extension itself (GPAW otherwise falls back to a slow pure-Python stand-in)
    import gpaw
    import gpaw.fftw
except ImportError as exc:
    sys.exit(f"GPAW does not import: {exc}")
missing = [name for name, ok in [
    (f"version {want} (found {gpaw.__version__})", gpaw.__version__ == want),
    ("libxc", hasattr(_gpaw, "lxcXCFuncNum")),
    ("BLAS", hasattr(_gpaw, "mmm")),
    ("FFTW", gpaw.fftw.have_fftw()),
    ("PAW setups (gpaw-data)", any((Path(p) / "Nb.PBE.gz").exists() for p in gpaw.setup_paths)),
] if not ok]
if missing:
    sys.exit("GPAW is installed without: " + ", ".join(missing))
PY
}
if ! gpaw_check 2>/dev/null; then
    echo "nhm set-up: building GPAW $GPAW_VERSION into .venv/ (about a minute)"
    # --no-cache-dir: never reuse a wheel that pip cached from a build with another configuration.
    GPAW_CONFIG="$PWD/scripts/gpaw-siteconfig.py" .venv/bin/python -m pip install -q \
        --disable-pip-version-check --no-cache-dir --force-reinstall --no-deps "gpaw==$GPAW_VERSION"
    .venv/bin/python -m pip install -q --disable-pip-version-check "gpaw==$GPAW_VERSION" "gpaw-data==$GPAW_DATA_VERSION"
    if ! gpaw_check; then
        echo "nhm set-up: FAILED: GPAW $GPAW_VERSION was built but is incomplete (see the line above)." >&2
        echo "  Check that libxc-dev, libopenblas-dev and libfftw3-dev are installed and see scripts/gpaw-siteconfig.py." >&2
        exit 1
    fi
fi
