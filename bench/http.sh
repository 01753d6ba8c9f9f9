#!/usr/bin/env bash
# Whole-program benchmark: `sockit http serve` against nginx and lighttpd on the same folder.
#
# What it measures, for each server, in one run:
#   1. requests/s for a 1 KiB file: wrk -t2 -c32, keep-alive, $DURATION seconds; and the
#      same with one client thread, wrk -t1 -c32 (all connections from one CPU: what CPU
#      steering and the hand-over between workers do with a single-threaded client)
#   2. throughput for a 100 MiB file: wrk -t2 -c4, $DURATION seconds (GiB/s)
#   3. server CPU time per request for (1) and per GiB for (2): utime+stime from
#      /proc/PID/stat, summed over the server's processes (nginx master + workers),
#      read before and after the wrk run
#   4. 10,000 idle keep-alive connections (each sent one request, then idles): the server's
#      RSS before and while they are held, how many were served, and wrk's results and
#      error counts for run (1) repeated while they are held
#
# Servers in their default shape and quiet: `sockit` and `nginx` run without an access log;
# `sockit-log` is sockit's default (Common Log Format on stderr, here redirected to a file)
# and `nginx-log` nginx with its default `access_log` (combined format, to a file, one
# write per request).
#
# Every server binds 127.0.0.1 on its own free port, is started by this script with a config
# written to a temp dir, and is stopped by pid. Not a test: results depend on the machine.
#
# Two references that are not contenders, measured for the 1 KiB run only
# (crates/sockit/examples/http_floor.rs): `floor`, a tokio server with sockit's shape that
# writes a fixed answer, and `epoll`, the same without tokio (one raw epoll loop per core).
#
# Usage: bench/http.sh                  (all servers)
#        SERVERS="sockit sockit-hash lighttpd" bench/http.sh   (A/B of --spread cpu|hash)
#        SERVERS="sockit nginx" DURATION=5 IDLE=2000 bench/http.sh
# Needs: wrk, nginx, lighttpd, python3 (Debian: apt-get install wrk nginx lighttpd).
set -euo pipefail
cd "$(dirname "$0")/.."

SERVERS=${SERVERS:-"sockit sockit-log nginx nginx-log lighttpd floor epoll"}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
IDLE=${IDLE:-10000}
CLK_TCK=$(getconf CLK_TCK)

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is missing (apt-get install $2)" >&2; exit 1; }; }
need wrk wrk
need python3 python3
for s in $SERVERS; do
  case $s in
    nginx | nginx-log) need nginx nginx ;;
    lighttpd) need lighttpd lighttpd ;;
    sockit | sockit-log | sockit-hash | floor | epoll) ;;
    *) echo "bench: unknown server $s" >&2; exit 2 ;;
  esac
done

# 10k connections need 10k descriptors in the server and in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 200)) ]; then
  echo "bench: ulimit -n is $(ulimit -n); lowering IDLE to $(( $(ulimit -n) - 200 ))" >&2
  IDLE=$(( $(ulimit -n) - 200 ))
fi

if [[ " $SERVERS " == *" sockit"* ]]; then
  echo "== building sockit (release)"
  cargo build --release -q -p sockit
fi
if [[ " $SERVERS " == *" floor "* || " $SERVERS " == *" epoll "* ]]; then
  echo "== building the floor (release example http_floor)"
  cargo build --release -q -p sockit --example http_floor
fi
SOCKIT=$PWD/target/release/sockit
FLOOR=$PWD/target/release/examples/http_floor

WORK=$(mktemp -d /tmp/sockit-bench.XXXXXX)
chmod 755 "$WORK" # nginx workers drop to an unprivileged user and must read the files
WWW=$WORK/www
mkdir -p "$WWW"
head -c 1024 /dev/urandom >"$WWW/1k.bin"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$WWW/100m.bin"
chmod 755 "$WWW"
chmod 644 "$WWW"/*

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The pid and its direct children (nginx workers), one per line.
procs_of() { echo "$1"; ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

# utime+stime clock ticks of a server, all its processes.
cpu_ticks() {
  local total=0 p stat
  for p in $(procs_of "$1"); do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    stat=${stat##*) } # fields after the command name
    set -- $stat      # $1 = state (field 3), so utime (14) is $12 and stime (15) is $13
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# Resident memory in KiB, all processes of a server.
rss_kib() {
  local total=0 p v
  for p in $(procs_of "$1"); do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

wait_port() {
  local port=$1 i
  for i in $(seq 1 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "bench: nothing listening on $port" >&2
  return 1
}

start_sockit() {
  local port=$1
  "$SOCKIT" http serve "$WWW" --bind 127.0.0.1 --port "$port" --quiet \
    --max-connections $((IDLE + 1000)) 2>"$WORK/sockit.err" &
  PID=$!
}

# sockit's default: the access log on (Common Log Format), written to a file.
start_sockit-log() {
  local port=$1
  "$SOCKIT" http serve "$WWW" --bind 127.0.0.1 --port "$port" \
    --max-connections $((IDLE + 1000)) 2>"$WORK/sockit-log.access" &
  PID=$!
}

# sockit with the kernel's hash instead of CPU steering (--spread hash), for an A/B of
# the steering in the same run; not in the default SERVERS.
start_sockit-hash() {
  local port=$1
  "$SOCKIT" http serve "$WWW" --bind 127.0.0.1 --port "$port" --quiet --spread hash \
    --max-connections $((IDLE + 1000)) 2>"$WORK/sockit-hash.err" &
  PID=$!
}

start_floor() {
  "$FLOOR" "$1" 2>"$WORK/floor.err" &
  PID=$!
}

start_epoll() {
  "$FLOOR" "$1" "$(nproc)" epoll 2>"$WORK/epoll.err" &
  PID=$!
}

start_nginx() { nginx_with "$1" nginx "access_log off;"; }
start_nginx-log() { nginx_with "$1" nginx-log "access_log $WORK/nginx-log/access.log;"; }

nginx_with() { # port dir access_log-directive
  local port=$1 dir=$WORK/$2 log=$3
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes auto;
worker_rlimit_nofile $((IDLE + 5000));
pid $dir/nginx.pid;
error_log $dir/error.log warn;
daemon off;
events { worker_connections $((IDLE + 1000)); }
http {
  $log
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;
  open_file_cache_min_uses 1;
  open_file_cache_errors on;
  default_type application/octet-stream;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port;
    root $WWW;
  }
}
EOF
  nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" &
  PID=$!
}

start_lighttpd() {
  local port=$1
  mkdir -p "$WORK/lighttpd"
  cat >"$WORK/lighttpd/lighttpd.conf" <<EOF
server.document-root = "$WWW"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$WORK/lighttpd/error.log"
server.network-backend = "sendfile"
server.max-fds = $((IDLE + 5000))
server.max-connections = $((IDLE + 1000))
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 65
mimetype.assign = ( ".bin" => "application/octet-stream" )
EOF
  lighttpd -D -f "$WORK/lighttpd/lighttpd.conf" 2>"$WORK/lighttpd/stderr" &
  PID=$!
}

# wrk output -> "requests seconds bytes_per_sec req_per_sec errors"
run_wrk() {
  local out
  out=$(wrk "$@" 2>&1)
  echo "$out" >>"$WORK/wrk.log"
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
m = re.search(r"(\d+) requests in ([\d.]+)(\w+),", out)
n = int(m.group(1)); t = float(m.group(2)); unit = m.group(3)
t *= {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
bps = float(tr.group(1)) * {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}[tr.group(2)]
errs = 0
se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
if se: errs += sum(int(x) for x in se.groups())
nx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
if nx: errs += int(nx.group(1))
print(n, t, bps, rps, errs)
PY
}

# Holds $IDLE keep-alive connections: each sends one request and reads the response, then
# idles. Writes "ok N failed M" to $2 when all are set up, then waits to be killed.
IDLE_PY='
import selectors, socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
req = b"GET /1k.bin HTTP/1.1\r\nHost: bench\r\n\r\n"
sel = selectors.DefaultSelector()
socks, failed = [], 0
for i in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(req)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, bytearray())
        socks.append(s)
    except OSError:
        failed += 1
pending, ok = len(socks), 0
deadline = time.time() + 60
while pending and time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        try:
            data = key.fileobj.recv(65536)
        except OSError:
            data = b""
        buf = key.data
        if not data:
            failed += 1; pending -= 1; sel.unregister(key.fileobj); continue
        buf += data
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0 and len(buf) >= head_end + 4 + 1024:
            ok += buf.startswith(b"HTTP/1.1 200"); failed += not buf.startswith(b"HTTP/1.1 200")
            pending -= 1; sel.unregister(key.fileobj)
failed += pending
open(ready, "w").write("ok %d failed %d\n" % (ok, failed))
while True:
    time.sleep(3600)
'

# perf stat over one wrk run: "syscalls context_switches" of the server's processes, or
# "- -" where perf (or its tracepoints) is not available.
PERF_OK=
if command -v perf >/dev/null 2>&1 &&
  perf stat -x, -e raw_syscalls:sys_enter,context-switches -o /dev/null -- true >/dev/null 2>&1; then
  PERF_OK=1
fi
perf_start() { # pid outfile -> sets PERF_PID
  PERF_PID=
  [ -n "$PERF_OK" ] || return 0
  local pids
  pids=$(procs_of "$1" | paste -sd, -)
  perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$pids" -o "$2" &
  PERF_PID=$!
  sleep 0.2
}
perf_stop() { # outfile -> sets PERF_RESULT to "syscalls cs" (not in a subshell: it waits)
  PERF_RESULT="- -"
  [ -n "$PERF_PID" ] || return 0
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  PERF_RESULT=$(awk -F, '$3 ~ /raw_syscalls/ {s=$1} $3 ~ /context-switches/ {c=$1} END {print (s==""?"-":s), (c==""?"-":c)}' "$1")
}

median() { # values... -> their median, or n/a (ignores "-" and "n/a")
  python3 -c '
import statistics, sys
v = [float(x) for x in sys.argv[1:] if x not in ("-", "n/a")]
print(f"{statistics.median(v):.6g}" if v else "n/a")' "$@"
}

declare -A R # name.metric -> space-separated values, one per round

start_and_wait() { # name -> PID, PORT
  PORT=$(free_port)
  "start_$1" "$PORT"
  PIDS+=("$PID")
  wait_port "$PORT"
}

stop_server() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# One round for one server: measurements 1-3 (floor and epoll: 1 only).
round_one() {
  local name=$1 round=$2 pid t0 t1 res n secs bps rps errs sc
  start_and_wait "$name"
  pid=$PID
  local url1k="http://127.0.0.1:$PORT/1k.bin" url100m="http://127.0.0.1:$PORT/100m.bin"
  wrk -t2 -c32 -d2s "$url1k" >/dev/null 2>&1 # warm-up (caches, open_file_cache)

  t0=$(cpu_ticks "$pid")
  perf_start "$pid" "$WORK/perf.$name.$round"
  res=$(run_wrk -t2 -c32 -d"${DURATION}s" --timeout 10s "$url1k")
  perf_stop "$WORK/perf.$name.$round"
  sc=$PERF_RESULT
  t1=$(cpu_ticks "$pid")
  read -r n _ _ rps errs <<<"$res"
  local us sys cs
  us=$(python3 -c "print(f'{($t1-$t0)/$CLK_TCK/$n*1e6:.2f}')")
  read -r sys cs <<<"$sc"
  sys=$(python3 -c "s='$sys'; print(f'{int(s)/$n:.2f}' if s != '-' else '-')")
  cs=$(python3 -c "s='$cs'; print(f'{int(s)/$n:.3f}' if s != '-' else '-')")
  R[$name.rps]+="$rps "
  R[$name.us_per_req]+="$us "
  R[$name.sys_per_req]+="$sys "
  R[$name.cs_per_req]+="$cs "
  R[$name.err]+="$errs "
  echo "   round $round $name: 1 KiB $rps req/s, $us µs CPU/req, $sys syscalls/req, $cs switches/req, errors $errs"

  # One client thread: every connection's handshake arrives on the same CPU.
  t0=$(cpu_ticks "$pid")
  res=$(run_wrk -t1 -c32 -d"${DURATION}s" --timeout 10s "$url1k")
  t1=$(cpu_ticks "$pid")
  read -r n _ _ rps errs <<<"$res"
  us=$(python3 -c "print(f'{($t1-$t0)/$CLK_TCK/$n*1e6:.2f}')")
  R[$name.rps_t1]+="$rps "
  R[$name.us_t1]+="$us "
  R[$name.err]+="$errs "
  echo "   round $round $name: 1 KiB, wrk -t1: $rps req/s, $us µs CPU/req, errors $errs"

  if [ "$name" != floor ] && [ "$name" != epoll ]; then
    t0=$(cpu_ticks "$pid")
    res=$(run_wrk -t2 -c4 -d"${DURATION}s" --timeout 30s "$url100m")
    t1=$(cpu_ticks "$pid")
    read -r n secs bps _ errs <<<"$res"
    local gibps cpg
    gibps=$(python3 -c "print(f'{$bps/2**30:.3f}')")
    cpg=$(python3 -c "b=$bps*$secs/2**30; print(f'{($t1-$t0)/$CLK_TCK/b:.3f}' if b else 'n/a')")
    R[$name.gibps]+="$gibps "
    R[$name.cpu_per_gib]+="$cpg "
    R[$name.err]+="$errs "
    echo "   round $round $name: 100 MiB $gibps GiB/s, $cpg CPU s/GiB, errors $errs"
  fi
  stop_server "$pid"
}

# Measurement 4, once per server.
idle_one() {
  local name=$1 pid res rps errs
  start_and_wait "$name"
  pid=$PID
  local url1k="http://127.0.0.1:$PORT/1k.bin"
  wrk -t2 -c32 -d2s "$url1k" >/dev/null 2>&1
  R[$name.rss0]=$(rss_kib "$pid")
  local ready=$WORK/idle.$name
  python3 -c "$IDLE_PY" "$PORT" "$IDLE" "$ready" &
  local holder=$!
  local i
  for i in $(seq 1 900); do [ -s "$ready" ] && break; sleep 0.1; done
  R[$name.idle]=$(cat "$ready" 2>/dev/null || echo "not ready")
  R[$name.rss1]=$(rss_kib "$pid")
  res=$(run_wrk -t2 -c32 -d"${DURATION}s" --timeout 10s "$url1k")
  read -r _ _ _ rps errs <<<"$res"
  R[$name.rps_idle]=$rps
  R[$name.err]+="$errs "
  echo "   idle x$IDLE $name: ${R[$name.idle]}, RSS ${R[$name.rss0]} -> ${R[$name.rss1]} KiB, 1 KiB while held: $rps req/s, errors $errs"
  kill "$holder"; wait "$holder" 2>/dev/null || true
  stop_server "$pid"
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), kernel $(uname -r)"
echo "   wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); nginx $(nginx -v 2>&1 | sed 's/.*\///'); $(lighttpd -v 2>/dev/null | head -1 | awk '{print $1}'); $("$SOCKIT" --version 2>/dev/null || echo sockit ?)"
echo "   DURATION=${DURATION}s RUNS=$RUNS IDLE=$IDLE perf=${PERF_OK:-no}; load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
for round in $(seq 1 "$RUNS"); do
  # Rotate who goes first, so no server always runs right after the 100 MiB test of another.
  order=($SERVERS)
  shift_by=$(( (round - 1) % ${#order[@]} ))
  order=("${order[@]:$shift_by}" "${order[@]:0:$shift_by}")
  for s in "${order[@]}"; do round_one "$s" "$round"; done
done
for s in $SERVERS; do
  case $s in floor | epoll | *-log) ;; *) idle_one "$s" ;; esac
done
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

med() { median ${R[$1]:-n/a}; }
errsum() { local t=0 e; for e in ${R[$1.err]:-}; do t=$((t + e)); done; echo "$t"; }

echo
echo "Medians over $RUNS rounds (each round's figures above):"
printf '%-11s %12s %10s %12s %10s %10s %10s %10s %12s %9s %14s %14s %10s %s\n' \
  server "1KiB req/s" "µs CPU/req" "-t1 req/s" "-t1 µs/req" "syscalls/req" "cs/req" "GiB/s" "CPU s/GiB" "RSS KiB" "RSS +idle KiB" "req/s +idle" "wrk errors" "idle conns"
for s in $SERVERS; do
  printf '%-11s %12s %10s %12s %10s %10s %10s %10s %12s %9s %14s %14s %10s %s\n' "$s" \
    "$(med "$s.rps")" "$(med "$s.us_per_req")" "$(med "$s.rps_t1")" "$(med "$s.us_t1")" \
    "$(med "$s.sys_per_req")" "$(med "$s.cs_per_req")" \
    "$(med "$s.gibps")" "$(med "$s.cpu_per_gib")" "${R[$s.rss0]:--}" "${R[$s.rss1]:--}" \
    "${R[$s.rps_idle]:--}" "$(errsum "$s")" "${R[$s.idle]:--}"
done

if [[ " $SERVERS " == *" sockit "* ]]; then
  echo
  for other in sockit-hash nginx lighttpd floor epoll; do
    [[ " $SERVERS " == *" $other "* ]] || continue
    python3 - "$other" "$(med sockit.rps)" "$(med $other.rps)" "$(med sockit.us_per_req)" "$(med $other.us_per_req)" \
      "$(med sockit.gibps)" "$(med $other.gibps)" "${R[sockit.rss1]:-0}" "${R[$other.rss1]:-0}" <<'PY'
import sys
o = sys.argv[1]
def f(x):
    try: return float(x)
    except ValueError: return 0.0
a = [f(x) for x in sys.argv[2:]]
r = lambda x, y: f"{x / y:.2f}x" if x and y else "n/a"
print(f"sockit vs {o}: req/s {r(a[0], a[1])}, CPU/req {r(a[2], a[3])}, GiB/s {r(a[4], a[5])}, RSS with idle conns {r(a[6], a[7])}")
PY
  done
fi
echo "(ratios are of the medians; wrk errors: all runs of that server added up)"
