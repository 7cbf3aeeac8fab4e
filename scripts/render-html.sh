#!/usr/bin/env bash
# Renders an HTML page with headless Chromium (Debian package `chromium`) to a PNG and fails if
# the page did not load cleanly: a console error, a resource that failed to load, a network
# request (a report must be self-contained), or a page that did not parse to its end.
# Usage: scripts/render-html.sh PAGE.html OUT.png [WIDTH]
set -euo pipefail
page="$1"; png="$2"; width="${3:-1200}"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "render-html: no chromium; install the Debian package: apt-get install chromium" >&2
    exit 2
fi
abs="$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
log=$(mktemp)
profile=$(mktemp -d)
trap 'rm -rf "$log" "$profile"' EXIT
# Requests go to an unreachable proxy (nothing leaves the machine) and are recorded in a net log;
# any the page made is an error. Chromium's own service requests (Google hosts) are not the page's.
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir="$profile"
       --proxy-server=127.0.0.1:9 --disable-background-networking --disable-component-update --disable-sync
       --disable-default-apps --disable-extensions --enable-logging=stderr --v=0 --virtual-time-budget=3000)
"$browser" "${flags[@]}" --window-size="$width,4000" --screenshot="$png" "file://$abs" 2>"$log" >/dev/null || {
    cat "$log" >&2; echo "render-html: chromium failed on $page" >&2; exit 1; }
dom=$("$browser" "${flags[@]}" --log-net-log="$profile/net.json" --dump-dom "file://$abs" 2>>"$log")
status=0
requests=$(grep -o '"url":"[a-z]*://[^"]*"' "$profile/net.json" | grep -v '"url":"file://' \
           | grep -v -E '://([a-z0-9.-]+\.)?(google\.com|googleapis\.com|gvt1\.com)/' | sort -u || true)
if [ -n "$requests" ]; then
    echo "$requests" >&2; echo "render-html: $page requested resources over the network (above); it must be self-contained" >&2; status=1
fi
if grep -E "CONSOLE|Uncaught|Failed to load|ERR_(PROXY|CONNECTION|NAME|FILE|INVALID)|net::" "$log" >&2; then
    echo "render-html: $page logged errors while loading (above)" >&2; status=1
fi
if ! grep -q "</html>" <<<"$dom" || ! grep -q "<svg" <<<"$dom"; then
    echo "render-html: $page did not load to its end (no </html> or no inline SVG in the DOM)" >&2; status=1
fi
if [ ! -s "$png" ]; then echo "render-html: no screenshot written to $png" >&2; status=1; fi
exit $status
