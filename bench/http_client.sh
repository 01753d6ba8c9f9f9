#!/usr/bin/env bash
# Whole-program benchmark of the HTTP client: `sockit http get` against curl and wget,
# all fetching the same URLs from the same nginx on loopback.
#
# What it measures, in one run (best wall time of $RUNS, with that run's CPU time,
# user+system of the client process, from bash's `time`):
#   1. a 1 GiB file to /dev/null, and to a file (in the work folder, on tmpfs)
#   2. 10,000 requests for a 1 KiB file on one kept-alive connection (the URLs in a
#      file: `sockit http get --urls F`, `curl -K F` with `output = /dev/null` per URL,
#      `wget -i F`)
#   3. the 1 GiB file over TLS, from nginx (ssl) and from `sockit http serve --tls-cert`,
#      to /dev/null: sockit and curl (both verifying against a CA made here with openssl)
#
# Every server binds 127.0.0.1 on its own free port, is started by this script with a
# config written to a temp dir, and is stopped by pid. Not a test: results depend on the
# machine and on its load (printed).
#
# Usage: bench/http_client.sh            RUNS=5 bench/http_client.sh
# Needs: nginx, curl, wget, openssl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
N=${N:-10000}
need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is missing (apt-get install $1)" >&2; exit 1; }; }
for t in nginx curl wget openssl python3; do need "$t"; done

echo "== building sockit (release)"
cargo build --release -q -p sockit
SOCKIT=$PWD/target/release/sockit

WORK=$(mktemp -d /dev/shm/sockit-client-bench.XXXXXX)
chmod 755 "$WORK"
WWW=$WORK/www
mkdir -p "$WWW"
head -c $((1024 * 1024 * 1024)) /dev/urandom >"$WWW/1g.bin"
head -c 1024 /dev/urandom >"$WWW/1k.bin"
chmod 755 "$WWW"; chmod 644 "$WWW"/*

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "bench: port $1 never opened" >&2; exit 1; }

# A CA and a leaf for localhost, as the TLS servers' certificate.
(cd "$WORK" &&
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf &&
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -subj /CN=bench-CA -days 2 2>/dev/null &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=localhost 2>/dev/null &&
  openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 1 -extfile ext.cnf 2>/dev/null)

P_HTTP=$(free_port); P_TLS=$(free_port); P_SOCKIT=$(free_port)
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_timeout 65; keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
  server { listen 127.0.0.1:$P_HTTP; root $WWW; }
  server {
    listen 127.0.0.1:$P_TLS ssl;
    ssl_certificate $WORK/leaf.pem; ssl_certificate_key $WORK/leaf.key;
    root $WWW;
  }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -e "$WORK/nginx/error.log" &
PIDS+=($!)
"$SOCKIT" http serve "$WWW" --port "$P_SOCKIT" --quiet --tls-cert "$WORK/leaf.pem" --tls-key "$WORK/leaf.key" 2>"$WORK/sockit-serve.log" &
PIDS+=($!)
wait_port "$P_HTTP"; wait_port "$P_TLS"; wait_port "$P_SOCKIT"

BIG=http://127.0.0.1:$P_HTTP/1g.bin
# best of $RUNS: prints "wall user sys" of the fastest run
best() {
  local best_line="" best_wall=999999 line wall
  for _ in $(seq "$RUNS"); do
    rm -f "$WORK/out.bin" # every tool starts without the file (freeing 1 GiB of tmpfs is not timed)
    line=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>"$WORK/err"; } 2>&1 ) || { echo "FAILED: $* ($(cat "$WORK/err"))" >&2; echo "nan nan nan"; return; }
    wall=${line%% *}
    if awk -v a="$wall" -v b="$best_wall" 'BEGIN{exit !(a<b)}'; then best_wall=$wall; best_line=$line; fi
  done
  echo "$best_line"
}
row() { # label tool wall user sys bytes|requests unit
  local label=$1 tool=$2 wall=$3 user=$4 sys=$5 amount=$6 unit=$7
  awk -v l="$label" -v t="$tool" -v w="$wall" -v u="$user" -v s="$sys" -v a="$amount" -v unit="$unit" 'BEGIN{
    rate = (unit=="GiB/s") ? a/1073741824/w : a/w;
    printf "| %-28s | %-6s | %7.3f | %6.3f | %6.3f | %9.2f %s |\n", l, t, w, u, s, rate, unit }'
}

echo "== machine: $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   $("$SOCKIT" --version); $(curl --version | head -1 | cut -d' ' -f1-2); $(wget --version | head -1 | cut -d' ' -f1-3); nginx $(nginx -v 2>&1 | sed 's/.*\///')"
echo
echo "| test | tool | wall s | user s | sys s | rate |"
echo "|---|---|---:|---:|---:|---:|"
GIB=1073741824
read -r w u s < <(best "$SOCKIT" http get "$BIG");                 row "1 GiB -> /dev/null" sockit "$w" "$u" "$s" $GIB GiB/s
read -r w u s < <(best curl -s -o /dev/null "$BIG");               row "1 GiB -> /dev/null" curl "$w" "$u" "$s" $GIB GiB/s
read -r w u s < <(best wget -q -O /dev/null "$BIG");               row "1 GiB -> /dev/null" wget "$w" "$u" "$s" $GIB GiB/s
OUT=$WORK/out.bin
read -r w u s < <(best "$SOCKIT" http get --clobber -o "$OUT" "$BIG"); row "1 GiB -> file (tmpfs)" sockit "$w" "$u" "$s" $GIB GiB/s
read -r w u s < <(best curl -s -o "$OUT" "$BIG");                  row "1 GiB -> file (tmpfs)" curl "$w" "$u" "$s" $GIB GiB/s
read -r w u s < <(best wget -q -O "$OUT" "$BIG");                  row "1 GiB -> file (tmpfs)" wget "$w" "$u" "$s" $GIB GiB/s
rm -f "$OUT"

SMALL=http://127.0.0.1:$P_HTTP/1k.bin
for _ in $(seq "$N"); do echo "$SMALL"; done >"$WORK/urls.txt"
for _ in $(seq "$N"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$SMALL"; done >"$WORK/urls.curl"
read -r w u s < <(best "$SOCKIT" http get --urls "$WORK/urls.txt"); row "$N x 1 KiB, one connection" sockit "$w" "$u" "$s" "$N" req/s
read -r w u s < <(best "$SOCKIT" http get --pipeline 16 --urls "$WORK/urls.txt"); row "$N x 1 KiB, --pipeline 16" sockit "$w" "$u" "$s" "$N" req/s
read -r w u s < <(best curl -s -K "$WORK/urls.curl");              row "$N x 1 KiB, one connection" curl "$w" "$u" "$s" "$N" req/s
read -r w u s < <(best wget -q -O /dev/null -i "$WORK/urls.txt");  row "$N x 1 KiB, one connection" wget "$w" "$u" "$s" "$N" req/s

for server in nginx sockit; do
  if [ $server = nginx ]; then port=$P_TLS; else port=$P_SOCKIT; fi
  url=https://localhost:$port/1g.bin
  read -r w u s < <(best "$SOCKIT" http get --cacert "$WORK/ca.pem" "$url"); row "1 GiB TLS from $server" sockit "$w" "$u" "$s" $GIB GiB/s
  read -r w u s < <(best curl -s --cacert "$WORK/ca.pem" -o /dev/null "$url"); row "1 GiB TLS from $server" curl "$w" "$u" "$s" $GIB GiB/s
done
