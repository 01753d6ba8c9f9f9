#!/usr/bin/env bash
# pystruct against CPython's precompiled struct.Struct, per call, on the same formats and
# values, measured in the same run: i5sf (the course's record), <IHHQ (a header), !I (a
# length prefix) and a 32-field record.
#
# Usage: bench/struct.sh            (from anywhere; needs cargo and python3)
# Extra arguments go to criterion, e.g. bench/struct.sh --measurement-time 5
set -euo pipefail
cd "$(dirname "$0")/.."

command -v python3 >/dev/null || { echo "bench/struct.sh: python3 is needed for the CPython side" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(python3 -V), $(rustc -V)"
echo "== cargo bench -p pystruct --bench pack_unpack -- --warm-up-time 1 --measurement-time 2 $*"
cargo bench -q -p pystruct --bench pack_unpack -- --warm-up-time 1 --measurement-time 2 --noplot "$@" >"$log" 2>&1 \
  || { cat "$log" >&2; exit 1; }

python3 - "$log" <<'PY'
import re, struct, sys, timeit

# Criterion: "name   time:   [low mid high]", the name sometimes on the line before.
text = open(sys.argv[1]).read()
scale = {"ps": 1e-3, "ns": 1.0, "us": 1e3, "µs": 1e3, "ms": 1e6}
ours = {}
for m in re.finditer(r"(\S+)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text):
    ours[m.group(1)] = float(m.group(2)) * scale[m.group(3)]

rec32 = ([4_000_000_000 - i for i in range(4)] + [60_000 + i for i in range(4)]
         + [1 << (40 + i) for i in range(4)] + [1.5 + i for i in range(4)]
         + [200 + i for i in range(4)] + [-100 - i for i in range(4)]
         + [-30_000 + i for i in range(4)] + [0.25 * i for i in range(2)]
         + [2.5 + i for i in range(2)])
cases = [
    ("i5sf", "i5sf", (1, b"zhang", 1.75)),
    ("<IHHQ", "<IHHQ", (0xDEADBEEF, 1, 2, 1 << 40)),
    ("!I", "!I", (1500,)),
    ("rec32", "<4I4H4Q4d4B4b4h2f2e", tuple(rec32)),
]

def cpython(stmt, g):
    number = 200_000
    return min(timeit.repeat(stmt, globals=g, number=number, repeat=7)) / number * 1e9

def cell(name):
    return f"{ours[name]:7.1f}" if name in ours else "      -"

def ratio(py, name):
    return f"{py / ours[name]:6.1f}x" if name in ours else "      -"

print()
print("ns per call (lower is better); ratio = CPython / pystruct")
print()
print("| format | op | CPython Struct | pystruct dynamic (Vec) | ratio | pystruct no-alloc | ratio | pystruct Typed | ratio |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for label, fmt, values in cases:
    s = struct.Struct(fmt)
    data = s.pack(*values)
    g = {"p": s.pack, "u": s.unpack, "d": data}
    py_pack = cpython("p(" + ", ".join(map(repr, values)) + ")", g)
    py_unpack = cpython("u(d)", g)
    shown = "`" + fmt + "`" if label != "rec32" else "32 fields `" + fmt + "`"
    print(f"| {shown} | pack | {py_pack:.1f} | {cell('pack_vec/' + label)} | {ratio(py_pack, 'pack_vec/' + label)} "
          f"| {cell('pack_into/' + label)} | {ratio(py_pack, 'pack_into/' + label)} "
          f"| {cell('typed_pack_into/' + label)} | {ratio(py_pack, 'typed_pack_into/' + label)} |")
    print(f"| {shown} | unpack | {py_unpack:.1f} | {cell('unpack_vec/' + label)} | {ratio(py_unpack, 'unpack_vec/' + label)} "
          f"| {cell('unpack_refs/' + label)} | {ratio(py_unpack, 'unpack_refs/' + label)} "
          f"| {cell('typed_unpack/' + label)} | {ratio(py_unpack, 'typed_unpack/' + label)} |")
print()
print("dynamic (Vec): Struct::pack -> Vec<u8>, Struct::unpack -> Vec<Value> (allocates, like CPython's bytes/tuple)")
print("no-alloc: Struct::pack_into a caller buffer, Struct::unpack_refs (borrowed values)")
print("Typed: Struct::typed::<(i32, [u8; 5], f32)>() etc., checked once, then plain loads/stores")
print()
print("other pystruct figures (ns):", ", ".join(f"{k} {v:.1f}" for k, v in sorted(ours.items())
      if k.split('/')[0] in ("pack_into_as", "unpack_as", "unpack_with")))
PY
