#!/usr/bin/env bash
# Download into .whl/ (git-ignored) the wheels that `railwatch train` imports and the
# nvidia-h200 device image lacks (CPython 3.12, manylinux x86_64), for
# benchmarks/gpu/train_on_device.sh. Run from anywhere; needs pip and PyPI.
#
# The set: the top-level modules in sys.modules after a tiny `railwatch train` (simulator
# crops, calibration) in a fresh interpreter, mapped to their distributions, minus those
# in the image's package list (/work/.library/device/KINDS.md). The versions are the
# ones railwatch was tested with here (session 27). --no-deps: each dependency is named.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/.whl"
py="${PYTHON:-python3}"
wheels=(
  affine==3.0.1
  alembic==1.20.1
  annotated-types==0.8.0
  Mako==1.4.3
  pydantic==2.14.4
  pydantic-core==2.50.5
  pydantic-settings==2.16.3
  pyproj==3.7.2
  python-dotenv==1.2.4
  rasterio==1.4.4
  shapely==2.2.0
  SQLAlchemy==2.1.9
  typing-inspection==0.4.5
)
mkdir -p "$dest"
"$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$dest" "${wheels[@]}"
du -ch "$dest"/*.whl | tail -1
