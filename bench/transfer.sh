#!/usr/bin/env bash
# File transfer on loopback: sockit send/recv against nc, nc + b3sum, tar | nc, in one run.
#
#   big:    one SIZE file (random bytes, default 4 GiB)
#           sockit:    sockit recv --once --yes --sync none / sockit send FILE
#           nc:        nc -l 127.0.0.1 P > out            / nc -N 127.0.0.1 P < FILE
#           nc+b3sum:  nc -l ... | tee out | b3sum          / tee >(b3sum) < FILE | nc -N ...
#                      (the same verification work as sockit: a hash on each end)
#   small:  COUNT files of 1-64 KiB in nested folders (default 20000)
#           sockit     as above, and with the default --sync batch (one syncfs)
#           tar|nc:    nc -l ... | tar x -C out           / tar c -C SRC . | nc -N ...
#   resume: a RESUME_SIZE file (default 1 GiB) cut at half (the receiver is frozen with
#           SIGSTOP once its part file holds half, the sender killed), then sent again:
#           bytes sent the second time and the second run's wall time.
#   rsync over a local daemon, when rsync is installed, for reference.
#
# Wall time runs from starting the sender to the receiver's exit (everything on disk,
# verified). Peak RSS of each side from /usr/bin/time. The page cache is warm for every
# tool alike (the source is read once before the first run). RUNS (default 1) repeats
# each case; the median is printed. Environment: SIZE, COUNT, RESUME_SIZE, RUNS, SOCKIT
# (default target/release/sockit; NO_BUILD=1 skips the build), WORK (default
# /tmp/sockit-bench-transfer, needs ~3x SIZE free).
set -euo pipefail
cd "$(dirname "$0")/.."
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
TREE=$(git describe --always --dirty 2>/dev/null || echo "?")
SIZE=${SIZE:-4294967296}
COUNT=${COUNT:-20000}
RESUME_SIZE=${RESUME_SIZE:-1073741824}
RUNS=${RUNS:-1}
SOCKIT=${SOCKIT:-target/release/sockit}
WORK=${WORK:-/tmp/sockit-bench-transfer}

if [ -z "${NO_BUILD:-}" ] && [ "$SOCKIT" = target/release/sockit ]; then
  cargo build --release -q -p sockit
fi
SOCKIT=$(realpath "$SOCKIT")
for tool in nc b3sum tar python3 ss /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing: $tool" >&2; exit 1; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listen() {
  for _ in $(seq 1 1000); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.01; done
  echo "nothing listens on port $1" >&2; return 1
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rss() { awk '/Maximum resident/ {print int($6/1024)}' "$1"; }

mkdir -p "$WORK"
SRC="$WORK/src"; OUT="$WORK/out"
if [ ! -s "$SRC/big.bin" ] || [ "$(stat -c %s "$SRC/big.bin")" != "$SIZE" ]; then
  mkdir -p "$SRC"
  head -c "$SIZE" /dev/urandom > "$SRC/big.bin"
fi
if [ ! -d "$SRC/small" ] || [ "$(find "$SRC/small" -type f | wc -l)" != "$COUNT" ]; then
  rm -rf "$SRC/small"
  python3 - "$SRC/small" "$COUNT" <<'EOF'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
random.seed(1)
for i in range(count):
    d = os.path.join(root, 'd%02d' % (i % 50), 'e%02d' % (i // 50 % 20))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'f%05d.bin' % i), 'wb') as f:
        f.write(random.randbytes(random.randint(1024, 65536)))
EOF
fi
head -c "$RESUME_SIZE" "$SRC/big.bin" > "$SRC/resume.bin" 2>/dev/null || head -c "$RESUME_SIZE" /dev/urandom > "$SRC/resume.bin"
cat "$SRC/big.bin" > /dev/null
SMALL_BYTES=$(du -sb "$SRC/small" | cut -f1)

# sockit_run PATH [recv flags...]: prints "seconds send_rss recv_rss"
sockit_run() {
  local path=$1; shift
  rm -rf "$OUT"; mkdir -p "$OUT"
  local port; port=$(free_port)
  /usr/bin/time -v -o "$WORK/recv.time" "$SOCKIT" recv --dir "$OUT" --bind 127.0.0.1 --port "$port" --once --yes "$@" 2>"$WORK/recv.log" </dev/null &
  local rpid=$!
  wait_listen "$port"
  local t0; t0=$(now)
  /usr/bin/time -v -o "$WORK/send.time" "$SOCKIT" send "$path" --to "127.0.0.1:$port" 2>"$WORK/send.log" </dev/null
  wait $rpid
  local t1; t1=$(now)
  grep -q "verified" "$WORK/send.log" || { cat "$WORK/send.log" "$WORK/recv.log" >&2; exit 1; }
  echo "$(echo "$t1 - $t0" | bc) $(rss "$WORK/send.time") $(rss "$WORK/recv.time")"
}

nc_run() { # FILE: plain nc into a file
  rm -rf "$OUT"; mkdir -p "$OUT"
  local port; port=$(free_port)
  nc -l 127.0.0.1 "$port" > "$OUT/big.bin" </dev/null & local rpid=$!
  wait_listen "$port"
  local t0; t0=$(now)
  nc -N 127.0.0.1 "$port" < "$1"
  wait $rpid
  echo "$(echo "$(now) - $t0" | bc)"
}

nc_b3_run() { # FILE: nc with b3sum on both ends
  rm -rf "$OUT"; mkdir -p "$OUT"
  local port; port=$(free_port)
  (nc -l 127.0.0.1 "$port" </dev/null | tee "$OUT/big.bin" | b3sum > "$WORK/recv.sum") & local rpid=$!
  wait_listen "$port"
  local t0; t0=$(now)
  tee >(b3sum > "$WORK/send.sum") < "$1" | nc -N 127.0.0.1 "$port"
  wait $rpid
  echo "$(echo "$(now) - $t0" | bc)"
}

tar_run() { # DIR
  rm -rf "$OUT"; mkdir -p "$OUT"
  local port; port=$(free_port)
  (nc -l 127.0.0.1 "$port" </dev/null | tar x -C "$OUT") & local rpid=$!
  wait_listen "$port"
  local t0; t0=$(now)
  tar c -C "$(dirname "$1")" "$(basename "$1")" | nc -N 127.0.0.1 "$port"
  wait $rpid
  echo "$(echo "$(now) - $t0" | bc)"
}

runs() { for _ in $(seq 1 "$RUNS"); do "$@"; done; }
gib() { echo "scale=2; $1 / $2 / 1073741824" | bc; }

echo "# bench/transfer.sh  tree $TREE  $(date -u +%F)  load at start: $LOAD_START"
echo "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "## one $(gib "$SIZE" 1) GiB file"
S=$(runs sockit_run "$SRC/big.bin" --sync none | sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
N=$(runs nc_run "$SRC/big.bin" | median)
B=$(runs nc_b3_run "$SRC/big.bin" | median)
read -r st ssend srecv <<<"$S"
printf '| %-28s | %8s s | %6s GiB/s | %s |\n' "sockit (--sync none)" "$st" "$(gib "$SIZE" "$st")" "RSS send $ssend MiB, recv $srecv MiB"
printf '| %-28s | %8s s | %6s GiB/s | %s |\n' "nc" "$N" "$(gib "$SIZE" "$N")" ""
printf '| %-28s | %8s s | %6s GiB/s | %s |\n' "nc + b3sum both ends" "$B" "$(gib "$SIZE" "$B")" ""
echo "ratio sockit/nc: $(echo "scale=2; $N / $st" | bc)   sockit/(nc+b3sum): $(echo "scale=2; $B / $st" | bc)"
S2=$(sockit_run "$SRC/big.bin")
echo "sockit with the default --sync batch (the file is fsynced before its rename): ${S2%% *} s"

echo
echo "## $COUNT files of 1-64 KiB ($(gib "$SMALL_BYTES" 1) GiB) in nested folders"
S=$(runs sockit_run "$SRC/small" --sync none | sort -g | head -n1)
SB=$(runs sockit_run "$SRC/small" | sort -g | head -n1)
T=$(runs tar_run "$SRC/small" | median)
read -r st ssend srecv <<<"$S"
read -r sbt _ _ <<<"$SB"
printf '| %-28s | %8s s | %8s files/s | %s |\n' "sockit (--sync none)" "$st" "$(echo "$COUNT / $st" | bc)" "RSS send $ssend MiB, recv $srecv MiB"
printf '| %-28s | %8s s | %8s files/s |\n' "sockit (--sync batch)" "$sbt" "$(echo "$COUNT / $sbt" | bc)"
printf '| %-28s | %8s s | %8s files/s |\n' "tar c | nc / nc | tar x" "$T" "$(echo "$COUNT / $T" | bc)"
echo "ratio sockit/tar: $(echo "scale=2; $T / $st" | bc) (--sync none), $(echo "scale=2; $T / $sbt" | bc) (--sync batch)"

echo
echo "## resume: a $(gib "$RESUME_SIZE" 1) GiB file cut at half"
rm -rf "$OUT"; mkdir -p "$OUT"
port=$(free_port)
"$SOCKIT" recv --dir "$OUT" --bind 127.0.0.1 --port "$port" --once --yes --sync none 2>/dev/null </dev/null & rpid=$!
wait_listen "$port"
"$SOCKIT" send "$SRC/resume.bin" --to "127.0.0.1:$port" 2>/dev/null </dev/null & spid=$!
half=$((RESUME_SIZE / 2))
while [ "$(stat -c %s "$OUT/.resume.bin.sockit-part" 2>/dev/null || echo 0)" -lt "$half" ]; do sleep 0.005; done
kill -STOP $rpid; kill -KILL $spid; kill -CONT $rpid
wait $spid 2>/dev/null || true; wait $rpid 2>/dev/null || true
kept=$(stat -c %s "$OUT/.resume.bin.sockit-part")
port=$(free_port)
"$SOCKIT" recv --dir "$OUT" --bind 127.0.0.1 --port "$port" --once --yes --sync none 2>/dev/null </dev/null & rpid=$!
wait_listen "$port"
t0=$(now)
"$SOCKIT" send "$SRC/resume.bin" --to "127.0.0.1:$port" --json 2>"$WORK/resume.log" </dev/null
wait $rpid
t1=$(now)
again=$(python3 -c 'import json,sys; print(next(json.loads(l)["bytes"] for l in open(sys.argv[1]) if "\"summary\"" in l))' "$WORK/resume.log")
cmp -s "$SRC/resume.bin" "$OUT/resume.bin" && same=identical || same=DIFFERENT
t_hash=$( { /usr/bin/time -f %e b3sum --num-threads 1 <(head -c "$kept" "$SRC/resume.bin") >/dev/null; } 2>&1 )
echo "part kept: $kept bytes; sent again: $((again)) bytes (= size - part: $((RESUME_SIZE - kept))); result $same"
echo "second run: $(echo "$t1 - $t0" | bc) s (prefix hashed on both ends; b3sum of the prefix alone: $t_hash s)"

echo
if command -v rsync >/dev/null 2>&1; then
  echo "## rsync over a local daemon (reference)"
  port=$(free_port)
  cat > "$WORK/rsyncd.conf" <<EOF
uid = $(id -u)
gid = $(id -g)
[out]
path = $OUT
read only = false
use chroot = false
EOF
  rsync --daemon --no-detach --config="$WORK/rsyncd.conf" --port="$port" --address=127.0.0.1 & dpid=$!
  wait_listen "$port"
  rm -rf "$OUT"/*
  t0=$(now); rsync -a "$SRC/big.bin" "rsync://127.0.0.1:$port/out/"; echo "big file: $(echo "$(now) - $t0" | bc) s"
  t0=$(now); rsync -a "$SRC/small" "rsync://127.0.0.1:$port/out/"; echo "small files: $(echo "$(now) - $t0" | bc) s"
  kill $dpid
else
  echo "rsync: not installed (apt-get install rsync for this reference row)"
fi
echo "magic-wormhole: not run (optional row; see docs/benchmarks.md)"
echo
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
