#!/usr/bin/env bash
# `vigil replay --report`: replays two generated files (one long series with
# spikes and labels, one long-format file with two series), then checks the
# page as a person would see it, in headless Chromium: it renders (the
# screenshot is not blank), its script runs without errors and sets up every
# chart, and pointing at a flagged point shows a tooltip that explains it.
# Then a 10,000-point series with one spike, full and zoomed by mouse wheel:
# the spike stands out in the screenshots, its tooltip says why in words, and
# table and chart agree on the windows detected. Also: byte-identical reports
# for the same input, no progress line when stderr is not a terminal.
# VIGIL_REPORT_SHOTS=DIR keeps the long series' screenshots there.
# usage: test_report.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

# ---- fixtures: seeded, so every run sees the same data ----------------------
python3 - "$work" <<'EOF'
import math, random, sys, datetime, json
out = sys.argv[1]
rnd = random.Random(42)
t0 = datetime.datetime(2014, 4, 1)
def ts(i, step_min):
    return (t0 + datetime.timedelta(minutes=step_min * i)).strftime("%Y-%m-%d %H:%M:%S")
with open(f"{out}/spiky.csv", "w") as f:
    f.write("timestamp,value\n")
    for i in range(4000):
        v = 50 + 20 * math.sin(2 * math.pi * i / 288) + rnd.gauss(0, 1)
        if i in (1500, 3000):
            v += 60
        if 3500 <= i < 3520:
            v -= 40
        f.write(f"{ts(i, 5)},{v:.3f}\n")
with open(f"{out}/multi.csv", "w") as f:
    f.write("timestamp,series,value\n")
    for i in range(600):
        f.write(f'{ts(i, 10)},"cpu{{host=""a""}}",{30 + rnd.gauss(0, 2):.3f}\n')
        f.write(f'{ts(i, 10)},"cpu{{host=""b""}}",{60 + rnd.gauss(0, 2) + (25 if i == 400 else 0):.3f}\n')
labels = {"spiky.csv": [[ts(1490, 5), ts(1510, 5)], [ts(2990, 5), ts(3010, 5)],
                        [ts(3495, 5), ts(3525, 5)]],
          "multi.csv": []}
json.dump(labels, open(f"{out}/labels.json", "w"))
EOF

# ---- the report ---------------------------------------------------------------
cd "$work"
"$vigil" replay spiky.csv multi.csv --labels labels.json --report r1.html >table.txt 2>err.txt \
    || fail "replay exited $?: $(cat err.txt)"
"$vigil" replay spiky.csv multi.csv --labels labels.json --report r2.html >/dev/null 2>&1 \
    || fail "second replay"
[ -s r1.html ] || { echo "FAIL: no report written"; exit 1; }
cmp -s r1.html r2.html && echo "ok: same input, same bytes" || fail "reports differ between runs"
grep -q $'\r' err.txt && fail "progress line written while stderr is not a terminal"

charts=$(grep -o '<svg class="chart"' r1.html | wc -l)
[ "$charts" -eq 3 ] && echo "ok: 3 charts" || fail "expected 3 charts, got $charts"
flagged=$(grep -o 'class="fp"' r1.html | wc -l)
[ "$flagged" -ge 2 ] && echo "ok: $flagged flagged points drawn" || fail "only $flagged flagged points"
lw=$(grep -Eo 'class="lwd?"' r1.html | wc -l)
[ "$lw" -eq 3 ] && echo "ok: 3 label windows drawn" || fail "expected 3 label windows, got $lw"
grep -q 'class="inc"' r1.html && echo "ok: incidents drawn" || fail "no incident span"
grep -q '<th>precision</th>' r1.html || fail "no precision column with --labels"
grep -q 'cpu{host=&quot;a&quot;}' r1.html || fail "series key not shown escaped"
if grep -Eq '(src|href)="(https?:)?//' r1.html; then fail "the page loads something from the network"; fi
"$vigil" replay multi.csv --report plain.html -q >/dev/null || fail "replay without labels"
grep -q '<th>precision</th>' plain.html && fail "precision column without labels"
size=$(stat -c %s r1.html)
echo "report: $size bytes for 5200 points"

# ---- Chromium ------------------------------------------------------------------
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ] && [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    (apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }) \
        >apt.log 2>&1 || true
    browser="$(command -v chromium || true)"
fi
[ -n "$browser" ] || { echo "FAIL: chromium is not installed and cannot be installed"; exit 1; }

chrome() {  # chromium with the test's flags, a fresh profile, a time limit
    local profile
    profile="$(mktemp -d "$work/profile.XXXXXX")"
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" "$@"
}

# The page's script ran to the end and found every chart; no script error.
chrome --enable-logging=stderr --v=0 --dump-dom "file://$work/r1.html" >dom.html 2>chrome.log \
    || fail "chromium --dump-dom exited $?"
grep -q "data-vigil-ready=\"$charts\"" dom.html && echo "ok: script set up $charts charts" \
    || fail "the page's script did not finish (no data-vigil-ready=\"$charts\")"
if grep -Eq 'Uncaught|SyntaxError|TypeError|ReferenceError' chrome.log; then
    fail "script errors: $(grep -E 'Uncaught|Error' chrome.log | head -3)"
fi

# Pointing at the first flagged point shows why it was flagged.
cp r1.html hover.html
cat >>hover.html <<'EOF'
<script>
(function () {
  var c = document.querySelector('svg.chart circle.fp');
  var r = c.getBoundingClientRect();
  c.ownerSVGElement.dispatchEvent(new MouseEvent('mousemove', {
    clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true}));
  document.body.setAttribute('data-tip', document.getElementById('tip').textContent);
})();
</script>
EOF
chrome --enable-logging=stderr --v=0 --dump-dom "file://$work/hover.html" >hover_dom.html \
    2>hover.log || fail "chromium (hover) exited $?"
tip="$(grep -o 'data-tip="[^"]*"' hover_dom.html || true)"
for want in value expected band score flagged zscore seasonal iforest; do
    [[ "$tip" == *"$want"* ]] || fail "tooltip lacks '$want': ${tip:-no tooltip}"
done
[ -n "$tip" ] && echo "ok: tooltip: $tip"

# The screenshot shows a drawn page: many colours, a fair share of ink.
chrome --screenshot="$work/shot.png" --window-size=1400,1000 "file://$work/r1.html" \
    >shot.log 2>&1 || fail "chromium --screenshot exited $?"
[ -s shot.png ] || { echo "FAIL: no screenshot"; exit 1; }
# A PNG reader for the checks below: decode(path) -> (width, height, rows of
# (r, g, b) tuples). Chromium writes 8-bit RGB(A), non-interlaced.
cat >png.py <<'EOF'
import struct, zlib
def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG format"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows
EOF
read -r colours ink red <<<"$(python3 - shot.png <<'EOF'
import sys
from png import decode
w, h, rows = decode(sys.argv[1])
colours, ink, red = set(), 0, 0
for line in rows:
    for r, g, b in line:
        colours.add((r, g, b))
        if r + g + b < 720:
            ink += 1
        if r > 180 and g < 90 and b < 90:
            red += 1
print(len(colours), round(100.0 * ink / (w * h), 1), red)
EOF
)"
echo "screenshot: $colours colours, $ink% ink, $red red pixels"
[ "$colours" -ge 50 ] || fail "screenshot looks blank: $colours colours"
python3 -c "import sys; sys.exit(0 if 3.0 <= float('$ink') <= 80.0 else 1)" \
    || fail "screenshot ink $ink% is not a drawn page"
[ "$red" -ge 20 ] || fail "no flagged points or threshold visible ($red red pixels)"

# ---- a 10,000-point series, full and zoomed -------------------------------------
# One spike (+150 on a daily cycle of 100 +- 30) at row 7000, inside one of
# two label windows (a normal point 4.25 noise deviations off, row 4916, is
# flagged too once the calendar learns the daily cycle). A probe appended to the page zooms (mouse wheel at the
# spike), points at the spike, and records where things landed; then the
# screenshot of the same view is read pixel by pixel.
python3 - <<'EOF'
import math, random, datetime, json
rnd = random.Random(7)
t0 = datetime.datetime(2015, 3, 1)
def ts(i):
    return (t0 + datetime.timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")
with open("long.csv", "w") as f:
    f.write("timestamp,value\n")
    for i in range(10000):
        v = 100 + 30 * math.sin(2 * math.pi * i / 288) + rnd.gauss(0, 2)
        f.write(f"{ts(i)},{v + (150 if i == 7000 else 0):.3f}\n")
json.dump({"long.csv": [[ts(3000), ts(3020)], [ts(6990), ts(7010)]]},
          open("long_labels.json", "w"))
EOF
"$vigil" replay long.csv --labels long_labels.json --report long.html >/dev/null 2>&1 \
    || fail "replay of long.csv"

view() {  # view NAME WHEEL_STEPS: probe and screenshot long.html after that much zoom
    cp long.html "$1.html"
    cat >>"$1.html" <<EOF
<script>
(function () {
  /* one layout for --dump-dom and --screenshot, scrollbar or not */
  document.documentElement.style.overflow = 'hidden';
  document.body.style.width = '1300px';
  var svg = document.querySelector('svg.chart');
  var at = function (el) { var r = el.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; };
  /* the spike: the highest flagged point (a 4-sigma point of the noise
   * may be flagged too, by the calendar's daily season) */
  var spike = function () {
    var best = null, y = Infinity;
    svg.querySelectorAll('.fp').forEach(function (e) {
      var r = e.getBoundingClientRect();
      if (r.width > 0 && r.top < y) { y = r.top; best = e; }
    });
    return best;
  };
  for (var i = 0; i < $2; i++) {
    var p = at(spike());
    svg.dispatchEvent(new WheelEvent('wheel', {clientX: p[0], clientY: p[1], deltaY: -100,
                                               bubbles: true, cancelable: true}));
  }
  var p = at(spike()), b = svg.querySelector('.bg').getBoundingClientRect(), det = 0;
  svg.dispatchEvent(new MouseEvent('mousemove', {clientX: p[0], clientY: p[1], bubbles: true}));
  var tip = document.getElementById('tip').textContent;
  svg.dispatchEvent(new MouseEvent('mouseleave'));
  document.querySelectorAll('svg.chart').forEach(function (s) { det += +s.dataset.detected; });
  document.body.setAttribute('data-probe', [Math.round(p[0]), Math.round(p[1]), Math.round(b.left),
    Math.round(b.top), Math.round(b.right), Math.round(b.bottom), svg.dataset.view || '0,1', det,
    document.querySelectorAll('rect.lwd').length,
    document.querySelector('table.sum td.det').textContent].join(' '));
  document.body.setAttribute('data-tip', tip);
})();
</script>
EOF
    chrome --window-size=1400,800 --dump-dom "file://$work/$1.html" >"$1_dom.html" 2>/dev/null \
        || fail "chromium ($1) exited $?"
    chrome --window-size=1400,800 --screenshot="$work/$1.png" "file://$work/$1.html" \
        >/dev/null 2>&1 || fail "chromium --screenshot ($1) exited $?"
    [ -n "${VIGIL_REPORT_SHOTS:-}" ] && cp "$1.png" "$VIGIL_REPORT_SHOTS/"
    read -r sx sy left top right bottom zoom det lwd table \
        <<<"$(grep -o 'data-probe="[^"]*"' "$1_dom.html" | cut -d'"' -f2)"
}

# The spike in the screenshot: the value line (navy) reaches at the spike's
# column far above its highest point anywhere else, the flagged marker (red)
# is there, and the band (light blue) covers little of the plot.
spike_check() {
    python3 - "$1.png" "$sx" "$sy" "$left" "$top" "$right" "$bottom" <<'EOF'
import sys
from png import decode
_, _, rows = decode(sys.argv[1])
sx, sy, left, top, right, bottom = map(int, sys.argv[2:])
def navy(c): return c[0] < 80 and c[1] < 100 and 70 < c[2] < 140
def band(c): return 190 <= c[0] <= 215 and 215 <= c[1] <= 235 and 230 <= c[2] <= 245
tops, band_px = {}, 0
for x in range(left + 2, right - 2):
    col = [rows[y][x] for y in range(top + 1, bottom - 1)]
    tops[x] = next((top + 1 + k for k, c in enumerate(col) if navy(c)), bottom)
    band_px += sum(1 for c in col if band(c))
spike = min(tops[x] for x in range(sx - 3, sx + 4))
rest = min(t for x, t in tops.items() if abs(x - sx) > 15)
red = sum(1 for y in range(sy - 6, sy + 7) for x in range(sx - 6, sx + 7)
          if rows[y][x][0] > 180 and rows[y][x][1] < 90 and rows[y][x][2] < 90)
share = 100.0 * band_px / ((right - left - 4) * (bottom - top - 2))
print(f"spike top y={spike}, elsewhere y={rest}, plot height {bottom - top}, "
      f"{red} red marker pixels, band {share:.0f}% of the plot")
ok = rest - spike >= (bottom - top) // 4 and red >= 15 and share <= 30
sys.exit(0 if ok else 1)
EOF
}

view full 0
echo "full view: $(spike_check full)" || true
spike_check full >/dev/null && echo "ok: the spike stands out in the full view" \
    || fail "the spike does not stand out in the full view: $(spike_check full)"
[ "$det" = "$table" ] && [ "$lwd" = "$table" ] && [ "$table" = 1 ] \
    && echo "ok: table and chart agree: $table window detected" \
    || fail "detected windows: table $table, charts $det (data-detected), $lwd drawn (want 1)"
grep -q 'One threshold throughout' long.html || fail "the page does not say which threshold"
tip="$(grep -o 'data-tip="[^"]*"' full_dom.html || true)"
for want in "above the expected" "outside the band" "Flagged by"; do
    [[ "$tip" == *"$want"* ]] || fail "no reason in words ('$want') in the tooltip: ${tip:-none}"
done
[[ "$tip" == *"Flagged by"* ]] && echo "ok: reason: ${tip#*Z}" | cut -c1-200

view zoomed 10
read -r za zb <<<"${zoom/,/ }"
python3 -c "import sys; sys.exit(0 if float('$zb') - float('$za') < 0.15 and float('$za') > 0 else 1)" \
    && echo "ok: zoomed to $zoom of the time axis" || fail "mouse wheel did not zoom: view $zoom"
[ "$sx" -gt "$left" ] && [ "$sx" -lt "$right" ] || fail "the spike left the zoomed plot (x $sx)"
spike_check zoomed >/dev/null && echo "ok: the spike stands out zoomed: $(spike_check zoomed)" \
    || fail "the spike does not stand out zoomed: $(spike_check zoomed)"

[ $status -eq 0 ] && echo "all report checks passed"
exit $status
