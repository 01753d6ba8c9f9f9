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
# CPU time (user + system) of the server and client processes is measured too (wait4
# rusage through a small wrapper; the `dd` source is not counted): unlike wall time it
# hardly depends on what else the machine is doing.
#
# Also printed: the source pipe alone (dd | cat > /dev/null), the ceiling for all tools.
# Runs are interleaved (sockit, nc, socat, sockit, ...) RUNS times; medians are reported.
#
# Environment: SIZE (bytes, default 4 GiB), RUNS (default 3), SOCKIT (binary; default
# target/release/sockit, built with `cargo build --release -p sockit`), NO_BUILD=1 to skip
# the build, CASES to run a subset ("sockit nc socat socat-b128k").
set -euo pipefail
cd "$(dirname "$0")/.."
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
TREE=$(git describe --always --dirty 2>/dev/null || echo "?")

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

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# cpu OUTFILE CMD...: runs CMD (SIGTERM/SIGINT forwarded to it) and writes the user+system
# CPU seconds it used to OUTFILE; exits with CMD's status.
cat >"$WORK/cpu.py" <<'PY'
import os, signal, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda s, f: os.kill(pid, s))
while True:
    try:
        _, status, ru = os.wait4(pid, 0)
        break
    except InterruptedError:
        continue
with open(out, 'w') as f:
    f.write('%.4f\n' % (ru.ru_utime + ru.ru_stime))
sys.exit(os.waitstatus_to_exitcode(status))
PY
cpu() { local out=$1; shift; python3 "$WORK/cpu.py" "$out" "$@"; }

# run_case NAME: one transfer with the server/client of NAME;
# RESULT="wall_seconds server_cpu_seconds client_cpu_seconds".
run_case() {
  local name=$1 port t0 t1 sc="$WORK/server.cpu" cc="$WORK/client.cpu"
  rm -f "$sc" "$cc"
  port=$(free_port)
  case $name in
    sockit) cpu "$sc" "$SOCKIT" tcp listen --once "127.0.0.1:$port" >/dev/null 2>/dev/null </dev/null & ;;
    nc) cpu "$sc" nc -l 127.0.0.1 "$port" >/dev/null </dev/null & ;;
    socat) cpu "$sc" socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" - >/dev/null & ;;
    socat-b128k) cpu "$sc" socat -b 131072 -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" - >/dev/null & ;;
  esac
  SERVER_PID=$!
  wait_listen "$port"
  t0=$(now)
  case $name in
    sockit) source_data | cpu "$cc" "$SOCKIT" tcp connect "127.0.0.1:$port" >/dev/null ;;
    nc) source_data | cpu "$cc" nc -N 127.0.0.1 "$port" >/dev/null ;;
    socat) source_data | cpu "$cc" socat -u - "TCP:127.0.0.1:$port" ;;
    socat-b128k) source_data | cpu "$cc" socat -b 131072 -u - "TCP:127.0.0.1:$port" ;;
  esac &
  local client=$!
  if ! wait "$SERVER_PID"; then echo "$name: server failed" >&2; fi
  t1=$(now)
  SERVER_PID=
  wait "$client" || { echo "$name: client failed" >&2; }
  RESULT="$(python3 -c "print(f'{$t1 - $t0:.4f}')") $(cat "$sc") $(cat "$cc")"
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
    times[$c]="${times[$c]:-},$RESULT"
    echo "run $r: $c: wall, server CPU, client CPU (s): $RESULT" >&2
  done
  pipe_only
  times[pipe]="${times[pipe]:-},$RESULT"
done

echo
echo "TCP bulk transfer over loopback: $SIZE bytes, median of $RUNS runs"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  host: $(uname -sr), $(nproc) cores, load average at start: $LOAD_START, at end: $(cut -d" " -f1-3 /proc/loadavg)"
echo "versions: $("$SOCKIT" --version 2>/dev/null | head -1) (tree $TREE at build time); nc: $(dpkg-query -W -f='${Version}' netcat-openbsd 2>/dev/null || echo '?'); $(socat -V 2>/dev/null | grep 'socat version' | head -1)"
python3 - "$SIZE" "${times[sockit]:-}" "${times[nc]:-}" "${times[socat]:-}" "${times[socat-b128k]:-}" "${times[pipe]:-}" <<'PY'
import statistics, sys
size = int(sys.argv[1])
names = ['sockit', 'nc', 'socat', 'socat -b 131072', 'pipe alone (dd | cat)']
med, cpu = {}, {}
print(f"{'tool':<24}{'median s':>9}{'GB/s':>7}{'CPU s':>8}{'CPU s/GB':>9}   wall runs (s)")
for name, col in zip(names, sys.argv[2:]):
    runs = [[float(x) for x in r.split()] for r in col.split(',') if r.strip()]
    if not runs:
        continue
    wall = [r[0] for r in runs]
    m = statistics.median(wall)
    med[name] = size / m / 1e9
    if len(runs[0]) == 3:
        c = statistics.median([r[1] + r[2] for r in runs])
        cpu[name] = c
        cpu_txt = f"{c:>8.2f}{c / (size / 1e9):>9.3f}"
    else:
        cpu_txt = f"{'-':>8}{'-':>9}"
    print(f"{name:<24}{m:>9.3f}{med[name]:>7.2f}{cpu_txt}   {' '.join(f'{x:.3f}' for x in wall)}")
print("(CPU s = median of server + client user+system CPU seconds; dd not counted)")
for other in ('nc', 'socat', 'socat -b 131072'):
    if 'sockit' in med and other in med:
        print(f"ratio sockit/{other}: throughput {med['sockit'] / med[other]:.2f}, "
              f"CPU used {cpu['sockit'] / cpu[other]:.2f}")
PY
