#!/usr/bin/env bash
# pystruct against CPython's precompiled struct.Struct, per call, on the same formats and
# values: i5sf (the course's record), <IHHQ (a header), !I (a length prefix) and a
# 32-field record. CPython is timed right before and right after the criterion run and
# the faster of the two is kept, so a busy machine penalises both sides alike.
#
# Usage: bench/struct.sh            (from anywhere; needs cargo and python3)
# Extra arguments go to criterion, e.g. bench/struct.sh --measurement-time 5
set -euo pipefail
cd "$(dirname "$0")/.."

command -v python3 >/dev/null || { echo "bench/struct.sh: python3 is needed for the CPython side" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The CPython side: prints {"label/pack": ns, "label/unpack": ns, ...} as JSON.
cat >"$work/cpython.py" <<'PY'
import json, struct, timeit
rec32 = ([4_000_000_000 - i for i in range(4)] + [60_000 + i for i in range(4)]
         + [1 << (40 + i) for i in range(4)] + [1.5 + i for i in range(4)]
         + [200 + i for i in range(4)] + [-100 - i for i in range(4)]
         + [-30_000 + i for i in range(4)] + [0.25 * i for i in range(2)]
         + [2.5 + i for i in range(2)])
CASES = [
    ("i5sf", "i5sf", (1, b"zhang", 1.75)),
    ("<IHHQ", "<IHHQ", (0xDEADBEEF, 1, 2, 1 << 40)),
    ("!I", "!I", (1500,)),
    ("rec32", "<4I4H4Q4d4B4b4h2f2e", tuple(rec32)),
]
def per_call(stmt, g):
    number = 200_000
    return min(timeit.repeat(stmt, globals=g, number=number, repeat=7)) / number * 1e9
out = {}
for label, fmt, values in CASES:
    s = struct.Struct(fmt)
    g = {"p": s.pack, "u": s.unpack, "d": s.pack(*values)}
    out[label + "/pack"] = per_call("p(" + ", ".join(map(repr, values)) + ")", g)
    out[label + "/unpack"] = per_call("u(d)", g)
print(json.dumps(out))
PY

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(python3 -V), $(rustc -V)"
echo "== bench/struct.sh: cargo bench -p pystruct --bench pack_unpack -- --warm-up-time 1 --measurement-time 2 $*"
cargo bench -q -p pystruct --bench pack_unpack --no-run >/dev/null 2>&1 || cargo bench -p pystruct --bench pack_unpack --no-run
python3 "$work/cpython.py" >"$work/before.json"
cargo bench -q -p pystruct --bench pack_unpack -- --warm-up-time 1 --measurement-time 2 --noplot "$@" >"$work/criterion.log" 2>&1 \
  || { cat "$work/criterion.log" >&2; exit 1; }
python3 "$work/cpython.py" >"$work/after.json"

python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
before = json.load(open(work + "/before.json"))
after = json.load(open(work + "/after.json"))
py = {k: min(before[k], after[k]) for k in before}

# Criterion: "name   time:   [low mid high]", the name sometimes on the line before.
text = open(work + "/criterion.log").read()
scale = {"ps": 1e-3, "ns": 1.0, "us": 1e3, "µs": 1e3, "ms": 1e6}
ours = {}
for m in re.finditer(r"(\S+)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text):
    ours[m.group(1)] = float(m.group(2)) * scale[m.group(3)]

def cell(name):
    return f"{ours[name]:.1f}" if name in ours else "-"

def ratio(t, name):
    return f"{t / ours[name]:.1f}x" if name in ours else "-"

formats = {"i5sf": "`i5sf`", "<IHHQ": "`<IHHQ`", "!I": "`!I`", "rec32": "32 fields `<4I4H4Q4d4B4b4h2f2e`"}
print()
print("ns per call (lower is better); ratio = CPython / pystruct")
print()
print("| format | op | CPython `Struct` | pystruct `Vec` | ratio | pystruct no-alloc | ratio | pystruct `Typed` | ratio |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for label, shown in formats.items():
    for op, vec, noalloc, typed in (
        ("pack", "pack_vec", "pack_into", "typed_pack_into"),
        ("unpack", "unpack_vec", "unpack_with", "typed_unpack"),
    ):
        t = py[f"{label}/{op}"]
        names = [f"{b}/{label}" for b in (vec, noalloc, typed)]
        cells = " | ".join(f"{cell(n)} | {ratio(t, n)}" for n in names)
        print(f"| {shown} | {op} | {t:.1f} | {cells} |")
print()
print("- `Vec`: Struct::pack -> Vec<u8>, Struct::unpack -> Vec<Value> (allocate, as CPython's bytes and tuple do)")
print("- no-alloc: Struct::pack_into a caller buffer; Struct::unpack_with (borrowed values to a callback)")
print("- `Typed`: Struct::typed::<(i32, [u8; 5], f32)>() and so on, checked once, then plain loads and stores")
print()
print("Other pystruct figures (ns):", ", ".join(f"{k} {v:.1f}" for k, v in sorted(ours.items())
      if k.split("/")[0] in ("pack_into_as", "unpack_as", "unpack_refs", "unpack_into")))
PY
