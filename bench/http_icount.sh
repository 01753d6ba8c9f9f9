#!/usr/bin/env bash
# User-space instructions per keep-alive request of an HTTP server, counted by callgrind:
# deterministic, unlike CPU time on a shared 2-core machine, so it shows what a change to
# the request path costs or saves.
#
# Each server runs with one worker under valgrind on 127.0.0.1 (a free port) and a Python
# client sends N keep-alive GETs for a 1 KiB file over 4 connections, one at a time. The
# run is done with 1,000 and with 11,000 requests; the difference of the two totals over
# 10,000 is the cost of one request (start-up and shutdown cancel out).
#
# Usage: bench/http_icount.sh                 (sockit, floor and epoll)
#        SERVERS=sockit bench/http_icount.sh
# Needs: valgrind (Debian: apt-get install valgrind), python3. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVERS=${SERVERS:-"sockit floor epoll"}
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
cargo build --release -q -p sockit
cargo build --release -q -p sockit --example http_floor

WORK=$(mktemp -d /tmp/sockit-icount.XXXXXX)
WWW=$WORK/www
mkdir -p "$WWW"
head -c 1024 /dev/urandom >"$WWW/1k.bin"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

CLIENT='
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
req = f"GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
for i in range(n):
    s = conns[i % 4]
    s.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, body = buf.partition(b"\r\n\r\n")
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
    while len(body) < length:
        body += s.recv(65536)
for s in conns:
    s.close()
'

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# total_ir NAME N -> instructions of one whole run with N requests
total_ir() {
  local name=$1 n=$2 port out
  port=$(free_port)
  out=$WORK/cg.$name.$n
  case $name in
    sockit) set -- target/release/sockit http serve "$WWW" --port "$port" --quiet --workers 1 ;;
    floor) set -- target/release/examples/http_floor "$port" 1 ;;
    epoll) set -- target/release/examples/http_floor "$port" 1 epoll ;;
    *) echo "bench: unknown server $name" >&2; exit 2 ;;
  esac
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>"$WORK/vg.$name.$n" &
  PID=$!
  local i
  for i in $(seq 1 150); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    sleep 0.2
  done
  python3 -c "$CLIENT" "$port" "$n"
  kill -INT "$PID" 2>/dev/null || true
  sleep 0.5
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
  grep -h -m1 '^summary:\|^totals:' "$out"* | awk '{print $2}' | head -1
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(valgrind --version)"
for s in $SERVERS; do
  a=$(total_ir "$s" 1000)
  b=$(total_ir "$s" 11000)
  echo "$s: $(( (b - a) / 10000 )) instructions per request"
done
