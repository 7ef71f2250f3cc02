#!/usr/bin/env bash
# `vigil replay --report`: replays two generated files (one long series with
# spikes and labels, one long-format file with two series), then checks the
# page as a person would see it, in headless Chromium: it renders (the
# screenshot is not blank), its script runs without errors and sets up every
# chart, and pointing at a flagged point shows a tooltip that explains it.
# Also: byte-identical reports for the same input, no progress line when
# stderr is not a terminal.
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
lw=$(grep -o 'class="lw"' r1.html | wc -l)
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
read -r colours ink red <<<"$(python3 - shot.png <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
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
colours, ink, red = set(), 0, 0
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
    for x in range(0, stride, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        colours.add((r, g, b))
        if r + g + b < 720:
            ink += 1
        if r > 180 and g < 90 and b < 90:
            red += 1
    prev = line
print(len(colours), round(100.0 * ink / (w * h), 1), red)
EOF
)"
echo "screenshot: $colours colours, $ink% ink, $red red pixels"
[ "$colours" -ge 50 ] || fail "screenshot looks blank: $colours colours"
python3 -c "import sys; sys.exit(0 if 3.0 <= float('$ink') <= 80.0 else 1)" \
    || fail "screenshot ink $ink% is not a drawn page"
[ "$red" -ge 20 ] || fail "no flagged points or threshold visible ($red red pixels)"

[ $status -eq 0 ] && echo "all report checks passed"
exit $status
