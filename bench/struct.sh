#!/usr/bin/env bash
# pystruct against CPython's precompiled struct.Struct, per call, on the same formats and
# values: i5sf (the course's record), <IHHQ (a header), !I (a length prefix) and a
# 32-field record.
#
# 1. Time: CPython is timed (timeit, best of 7) right before and right after the
#    criterion run and the faster of the two is kept, so a busy machine penalises both
#    sides alike.
# 2. Instructions per call, if valgrind is installed: both sides run under callgrind
#    (pystruct: crates/pystruct/benches/icount.rs; CPython: a loop of n calls minus a
#    loop of 0). Unlike time, these counts do not depend on the machine's load, so they
#    compare versions and the two implementations reliably on a shared machine.
#
# Usage: bench/struct.sh            (from anywhere; needs cargo and python3)
#        bench/struct.sh --icount   (only the instruction counts)
# Other arguments go to criterion, e.g. bench/struct.sh --measurement-time 5
set -euo pipefail
cd "$(dirname "$0")/.."

command -v python3 >/dev/null || { echo "bench/struct.sh: python3 is needed for the CPython side" >&2; exit 1; }

icount_only=
if [ "${1:-}" = --icount ]; then
  icount_only=1
  shift
fi

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
if [ -z "$icount_only" ]; then
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
print("| format | op | CPython `Struct` | pystruct `Vec` | ratio | reused `Vec` | ratio | no-alloc | ratio | `Typed` | ratio |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label, shown in formats.items():
    for op, benches in (
        ("pack", ("pack_vec", "pack_to_vec", "pack_into", "typed_pack_into")),
        ("unpack", ("unpack_vec", "unpack_into", "unpack_with", "typed_unpack")),
    ):
        t = py[f"{label}/{op}"]
        names = [f"{b}/{label}" for b in benches]
        cells = " | ".join(f"{cell(n)} | {ratio(t, n)}" for n in names)
        print(f"| {shown} | {op} | {t:.1f} | {cells} |")
print()
print("- `Vec`: Struct::pack -> new Vec<u8>, Struct::unpack -> new Vec<Value> (allocate, as CPython's bytes and tuple do)")
print("- reused `Vec`: Struct::pack_to_vec into a cleared Vec<u8>; Struct::unpack_into a Vec<Value> (send and receive loops)")
print("- no-alloc: Struct::pack_into a caller buffer; Struct::unpack_with (borrowed values to a callback)")
print("- `Typed`: Struct::typed::<(i32, [u8; 5], f32)>() and so on, checked once, then plain loads and stores")
print()
print("Other pystruct figures (ns):", ", ".join(f"{k} {v:.1f}" for k, v in sorted(ours.items())
      if k.split("/")[0] in ("pack_into_as", "unpack_as", "unpack_refs")))
PY
fi

# Instructions per call under callgrind (both sides), if valgrind is installed.
if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
  echo "(valgrind not installed: no instruction counts)"
  exit 0
fi
echo
echo "== instructions per call (valgrind --tool=callgrind; independent of the machine's load)"
cargo bench -q -p pystruct --bench icount --no-run >/dev/null 2>&1 || cargo bench -p pystruct --bench icount --no-run
icount=$(cargo bench -p pystruct --bench icount --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "icount" and m.get("executable"):
        print(m["executable"])')
pyexe=$(python3 -c 'import sys; print(sys.executable)')
n=20000
cat >"$work/pyloop.py" <<'PY'
import struct, sys
exec(open(sys.argv[1]).read().split("def per_call")[0])   # CASES from cpython.py
label, op, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
fmt, values = {c[0]: (c[1], c[2]) for c in CASES}[label]
s = struct.Struct(fmt)
p, u, d = s.pack, s.unpack, s.pack(*values)
call = ("p(" + ", ".join(map(repr, values)) + ")") if op == "pack" else "u(d)"
g = {}
exec("def loop(n, p, u, d):\n    for _ in range(n):\n        " + call + "\n", g)
g["loop"](n, p, u, d)
PY
for label in i5sf '<IHHQ' '!I' rec32; do
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$icount" "$n" "$label" >/dev/null 2>&1
  callgrind_annotate --inclusive=yes --threshold=100 "$work/cg.out" 2>/dev/null \
    | awk -v n="$n" -v c="$label" '/icount.rs:icount::op_/ {gsub(",", "", $1); name = $0;
        sub(/.*icount::op_/, "", name); sub(/[ \[].*/, "", name); if ($1 > m[name]) m[name] = $1}
        END {for (k in m) printf "rust %s %s %.1f\n", c, k, m[k] / n}' >>"$work/icount.txt"
  for op in pack unpack; do
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$pyexe" "$work/pyloop.py" "$work/cpython.py" "$label" "$op" "$1" 2>&1 \
      | sed -n 's/.*refs: *//p' | tr -d ,; }
    echo "python $label $op $(( ($(ir $n) - $(ir 0)) / n ))" >>"$work/icount.txt"
  done
done
python3 - "$work/icount.txt" <<'PY'
import sys
rust, py = {}, {}
for line in open(sys.argv[1]):
    side, label, op, count = line.split()
    (rust if side == "rust" else py)[(label, op)] = float(count)
formats = {"i5sf": "`i5sf`", "<IHHQ": "`<IHHQ`", "!I": "`!I`", "rec32": "32 fields"}
print()
print("instructions per call (lower is better); ratio = CPython / pystruct")
print()
print("| format | op | CPython `Struct` | pystruct `Vec` | ratio | reused `Vec` | ratio | no-alloc | ratio | `Typed` | ratio |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label, shown in formats.items():
    for op, ops in (("pack", ("pack_vec", "pack_to_vec", "pack_into", "typed_pack")),
                    ("unpack", ("unpack_vec", "unpack_into", "unpack_with", "typed_unpack"))):
        t = py[(label, op)]
        cells = " | ".join(f"{rust[(label, o)]:.0f} | {t / rust[(label, o)]:.1f}x" for o in ops)
        print(f"| {shown} | {op} | {t:.0f} | {cells} |")
print()
print("(CPython: a Python loop of n calls minus an empty run, so the loop's own cost is in its")
print("figure as timeit's is in its time; pystruct: the same loop in Rust, black_box on inputs.)")
PY
