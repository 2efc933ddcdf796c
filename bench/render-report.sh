#!/bin/sh
# Renders a bench report in headless Chromium and proves it draws: the
# rendered DOM must hold the charts (SVG polylines and bars) and the
# screenshot must hold coloured pixels of the series.
# Usage: bench/render-report.sh results/bench/report.html [screenshot.png]
# Needs chromium (Debian: apt-get install chromium). Exit 0 when it draws.
set -eu
html=${1:?usage: bench/render-report.sh REPORT.html [SCREENSHOT.png]}
png=${2:-${html%.html}.png}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "render-report: no chromium found; apt-get install chromium" >&2; exit 3; }
url="file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
flags="--headless --no-sandbox --disable-gpu --hide-scrollbars"
dom=$(mktemp)
trap 'rm -f "$dom"' EXIT
"$browser" $flags --dump-dom "$url" > "$dom" 2>/dev/null
"$browser" $flags --window-size=1280,2400 --screenshot="$png" "$url" >/dev/null 2>&1
python3 - "$png" "$dom" <<'PY'
import struct, sys, zlib
png, dom = sys.argv[1], open(sys.argv[2]).read()
charts, lines, bars = dom.count("<svg"), dom.count("<polyline"), dom.count('class="bar"')
data = open(png, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
    if kind == b"IHDR": w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT": idat += body
bpp = {2: 3, 6: 4}[ctype]; raw = zlib.decompress(idat); stride = w * bpp
prev, rows, i = bytearray(stride), 0, 0
coloured = 0
while i < len(raw):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        if max(r, g, bl) - min(r, g, bl) > 60: coloured += 1   # saturated: a series, not text or grid
    prev = line; rows += 1
print(f"render-report: {charts} SVG charts, {lines} polylines, {bars} bars in the rendered DOM; "
      f"{coloured} coloured pixels in {w}x{rows} screenshot {png}")
sys.exit(0 if charts >= 4 and lines >= 1 and bars >= 1 and coloured > 1000 else 1)
PY
