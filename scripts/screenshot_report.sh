#!/usr/bin/env bash
# Screenshot an HTML report with headless Chromium (Debian package `chromium`).
# Usage: scripts/screenshot_report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]
# The browser runs with networking features off and a throw-away profile, so the
# screenshot also shows that the report renders offline.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTH=1400] [HEIGHT=3000]" >&2
  exit 2
fi
report=$(realpath "$1")
out=$(realpath -m "$2")
width=${3:-1400}
height=${4:-3000}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z "$browser" ]]; then
  echo "chromium not found: install it (Debian: apt-get install -y chromium)" >&2
  exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --virtual-time-budget=5000 \
  --screenshot="$out" --window-size="${width},${height}" "file://${report}" >/dev/null 2>&1
[[ -s "$out" ]] || { echo "no screenshot written to $out" >&2; exit 1; }
echo "$out"
