#!/usr/bin/env bash
# Bulk TCP throughput on loopback: sockit vs OpenBSD nc vs socat, in one run.
#
# For each tool: a one-connection server writing to /dev/null and a client fed SIZE bytes
# of zeros through a pipe (`dd if=/dev/zero bs=1M`), the same source for every tool. The
# clock runs from starting the client to the SERVER's exit, i.e. until the receiver has
# read the last byte and seen the end of stream (a client's own exit can come earlier or
# later: socat lingers 0.5 s after EOF). Servers are stopped by pid if they do not exit.
#
#   sockit:  sockit tcp listen --once 127.0.0.1:P > /dev/null
#            sockit tcp connect 127.0.0.1:P
#   nc:      nc -l 127.0.0.1 P > /dev/null       (OpenBSD netcat, stdin </dev/null)
#            nc -N 127.0.0.1 P
#   socat:   socat -u TCP-LISTEN:P,bind=127.0.0.1,reuseaddr - > /dev/null
#            socat -u - TCP:127.0.0.1:P
#   socat -b 131072 (both ends), as socat with large buffers, for reference.
#
# Also printed: the source pipe alone (dd | cat > /dev/null), the ceiling for all tools.
# Runs are interleaved (sockit, nc, socat, sockit, ...) RUNS times; the median is reported.
#
# Environment: SIZE (bytes, default 4 GiB), RUNS (default 3), SOCKIT (binary; default
# target/release/sockit, built with `cargo build --release -p sockit`).
set -euo pipefail
cd "$(dirname "$0")/.."
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)

SIZE=${SIZE:-4294967296}
RUNS=${RUNS:-3}
SOCKIT=${SOCKIT:-target/release/sockit}

if [ -z "${NO_BUILD:-}" ] && [ "$SOCKIT" = target/release/sockit ]; then
  cargo build --release -q -p sockit
fi
for tool in "$SOCKIT" nc socat python3 ss; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] || { echo "missing: $tool" >&2; exit 1; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_listen() { # PORT: wait until something listens on 127.0.0.1:PORT (10 s)
  for _ in $(seq 1 1000); do
    if ss -Hltn "sport = :$1" | grep -q .; then return 0; fi
    sleep 0.01
  done
  echo "nothing listens on port $1" >&2
  return 1
}

source_data() {
  dd if=/dev/zero bs=1M count="$SIZE" iflag=count_bytes status=none
}

now() { date +%s.%N; }

SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# run_case NAME: runs one transfer with the server/client of NAME; seconds in RESULT.
run_case() {
  local name=$1 port t0 t1
  port=$(free_port)
  case $name in
    sockit) "$SOCKIT" tcp listen --once "127.0.0.1:$port" >/dev/null 2>/dev/null </dev/null & ;;
    nc) nc -l 127.0.0.1 "$port" >/dev/null </dev/null & ;;
    socat) socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" - >/dev/null & ;;
    socat-b128k) socat -b 131072 -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" - >/dev/null & ;;
  esac
  SERVER_PID=$!
  wait_listen "$port"
  t0=$(now)
  case $name in
    sockit) source_data | "$SOCKIT" tcp connect "127.0.0.1:$port" >/dev/null ;;
    nc) source_data | nc -N 127.0.0.1 "$port" >/dev/null ;;
    socat) source_data | socat -u - "TCP:127.0.0.1:$port" ;;
    socat-b128k) source_data | socat -b 131072 -u - "TCP:127.0.0.1:$port" ;;
  esac &
  local client=$!
  if ! wait "$SERVER_PID"; then echo "$name: server failed" >&2; fi
  t1=$(now)
  SERVER_PID=
  wait "$client" || { echo "$name: client failed" >&2; }
  RESULT=$(python3 -c "print(f'{$t1 - $t0:.4f}')")
}

pipe_only() {
  local t0 t1
  t0=$(now)
  source_data | cat >/dev/null
  t1=$(now)
  RESULT=$(python3 -c "print(f'{$t1 - $t0:.4f}')")
}

cases=(${CASES:-sockit nc socat socat-b128k})
declare -A times
for r in $(seq 1 "$RUNS"); do
  for c in "${cases[@]}"; do
    run_case "$c"
    times[$c]="${times[$c]:-} $RESULT"
    echo "run $r: $c $RESULT s" >&2
  done
  pipe_only
  times[pipe]="${times[pipe]:-} $RESULT"
done

echo
echo "TCP bulk transfer over loopback: $SIZE bytes, median of $RUNS runs"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  host: $(uname -sr), $(nproc) cores, load average at start: $LOAD_START, at end: $(cut -d" " -f1-3 /proc/loadavg)"
echo "versions: $("$SOCKIT" --version 2>/dev/null | head -1); nc: $(dpkg-query -W -f='${Version}' netcat-openbsd 2>/dev/null || echo '?'); $(socat -V 2>/dev/null | grep 'socat version' | head -1)"
python3 - "$SIZE" "${times[sockit]:-}" "${times[nc]:-}" "${times[socat]:-}" "${times[socat-b128k]:-}" "${times[pipe]:-}" <<'EOF'
import statistics, sys
size = int(sys.argv[1])
names = ['sockit', 'nc', 'socat', 'socat -b 131072', 'pipe alone (dd | cat)']
med = {}
print(f"{'tool':<24}{'median s':>10}{'GB/s':>8}   runs (s)")
for name, col in zip(names, sys.argv[2:]):
    runs = [float(x) for x in col.split()]
    if not runs:
        continue
    m = statistics.median(runs)
    med[name] = size / m / 1e9
    print(f"{name:<24}{m:>10.3f}{med[name]:>8.2f}   {' '.join(f'{x:.3f}' for x in runs)}")
for other in ('nc', 'socat', 'socat -b 131072'):
    if 'sockit' in med and other in med:
        print(f"ratio sockit/{other}: {med['sockit'] / med[other]:.2f}")
EOF
