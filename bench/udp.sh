#!/usr/bin/env bash
# UDP datagrams per second with 64-byte datagrams on loopback: sockit vs socat.
#
# Method (the same for both tools; everything runs inside a private network namespace when
# we are root and `ip netns` works, so the kernel's UDP counters count only this traffic):
#
# Input: a regular file of COUNT records, each one datagram's worth: a line of 64 bytes
# payload. `sockit udp send` sends each stdin line as one datagram; the script probes
# once whether the newline is part of the datagram and sizes the lines so that every
# datagram carries exactly 64 bytes. socat sends one datagram per read(2), so it gets a
# file of 64-byte records and `-b 64`: every read from a regular file returns exactly one
# record, i.e. one 64-byte datagram.
#
# 1. Senders into one fair receiver (a Python counter with a huge SO_RCVBUFFORCE buffer
#    that counts every datagram it reads):
#      sockit udp send 127.0.0.1:P < lines
#      socat -b 64 -u - UDP:127.0.0.1:P < records
#    Reported: datagrams received by the counter, lost, and received per second of the
#    sender's run time (start to exit).
# 2. End to end, each tool to itself, receiver writing to /dev/null:
#      sockit udp send 127.0.0.1:P < lines   ->  sockit udp listen --raw 127.0.0.1:P > /dev/null
#      socat -b 64 -u - UDP:127.0.0.1:P < records -> socat -u UDP-RECV:P,bind=127.0.0.1 - > /dev/null
#    Counted at the receiver from the kernel's UDP counters (/proc/net/snmp in the
#    namespace: InDatagrams counts datagrams the receiving program has read with
#    recvfrom, RcvbufErrors those dropped because its queue was full, i.e. it fell
#    behind). The receiver is stopped (by pid) only after its socket's queue is empty;
#    the rate is datagrams read per second from the sender's start until then.
#
# Environment: COUNT (datagrams, default 500000), RUNS (default 3; median reported),
# SOCKIT (binary; default target/release/sockit, built with cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
TREE=$(git describe --always --dirty 2>/dev/null || echo "?")
ROOT=$(pwd)

COUNT=${COUNT:-500000}
RUNS=${RUNS:-3}
SOCKIT=${SOCKIT:-$ROOT/target/release/sockit}
PAYLOAD=64

if [ -z "${NO_BUILD:-}" ] && [ "$SOCKIT" = "$ROOT/target/release/sockit" ]; then
  cargo build --release -q -p sockit
fi
for tool in "$SOCKIT" socat python3 ss; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] || { echo "missing: $tool" >&2; exit 1; }
done

WORK=$(mktemp -d)
NS=
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A private namespace with only `lo`, when possible.
X=()
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && [ -z "${NO_NETNS:-}" ]; then
  NS="sockit-bench-$$"
  if ip netns add "$NS" 2>/dev/null && ip -n "$NS" link set lo up; then
    X=(ip netns exec "$NS")
  else
    NS=
  fi
fi
WHERE=${NS:+"network namespace $NS"}
WHERE=${WHERE:-"the host network namespace (counters include other UDP traffic)"}

# The Python counter: prints its port, then after 3 s without data (or 120 s without any):
# "COUNT BYTES SECONDS_FIRST_TO_LAST".
cat >"$WORK/count.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.setsockopt(socket.SOL_SOCKET, 33, 1 << 30)  # SO_RCVBUFFORCE (root)
except OSError:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 30)
s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True)
buf = bytearray(65536)
s.settimeout(120)
n = nb = 0
try:
    nb = s.recv_into(buf); n = 1
except socket.timeout:
    print(0, 0, 0, flush=True); sys.exit(0)
first = last = time.monotonic()
s.settimeout(3)
while True:
    try:
        k = s.recv_into(buf)
    except socket.timeout:
        break
    n += 1; nb += k; last = time.monotonic()
print(n, nb, f'{last - first:.4f}', flush=True)
EOF

now() { date +%s.%N; }

udp_counters() { # prints "InDatagrams RcvbufErrors"
  "${X[@]}" cat /proc/net/snmp | awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else { print $c["InDatagrams"], $c["RcvbufErrors"] } }'
}

wait_udp_port() { # PORT
  for _ in $(seq 1 1000); do
    if "${X[@]}" ss -Huln "sport = :$1" | grep -q .; then return 0; fi
    sleep 0.01
  done
  echo "nothing bound UDP port $1" >&2; return 1
}

wait_queue_empty() { # PORT: until the socket's Recv-Q is 0 (60 s)
  for _ in $(seq 1 6000); do
    q=$("${X[@]}" ss -Huln "sport = :$1" | awk '{ print $2; exit }')
    if [ "${q:-0}" = 0 ]; then return 0; fi
    sleep 0.01
  done
}

free_port() {
  "${X[@]}" python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- inputs ---------------------------------------------------------------------------
python3 -c "
import sys
open('$WORK/records', 'wb').write((b'r' * ($PAYLOAD - 1) + b'\n') * $COUNT)
"
# Probe: does `sockit udp send` keep the newline in the datagram?
probe_port_file="$WORK/probe"
"${X[@]}" python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True); s.settimeout(20)
print(len(s.recv(65536)), flush=True)
" >"$probe_port_file" &
probe=$!
for _ in $(seq 1 500); do [ -s "$probe_port_file" ] && break; sleep 0.01; done
printf 'abcd\n' | "${X[@]}" "$SOCKIT" udp send "127.0.0.1:$(head -1 "$probe_port_file")" >/dev/null
wait $probe
probe_len=$(sed -n 2p "$probe_port_file")
if [ "$probe_len" = 5 ]; then line_len=$((PAYLOAD - 1)); else line_len=$PAYLOAD; fi
python3 -c "
open('$WORK/lines', 'wb').write((b'l' * $line_len + b'\n') * $COUNT)
"
NEWLINE_NOTE="sockit datagram for 'abcd\\n' is $probe_len bytes: lines of $line_len chars + newline"

# --- 1. senders into the Python counter -------------------------------------------------
sender_into_counter() { # TOOL -> RESULT="received seconds"
  local tool=$1 out="$WORK/count.out" port t0 t1
  : >"$out"
  "${X[@]}" python3 "$WORK/count.py" >"$out" &
  local cpid=$!
  PIDS+=("$cpid")
  for _ in $(seq 1 500); do [ -s "$out" ] && break; sleep 0.01; done
  port=$(head -1 "$out")
  t0=$(now)
  case $tool in
    sockit) "${X[@]}" "$SOCKIT" udp send "127.0.0.1:$port" <"$WORK/lines" >/dev/null ;;
    socat) "${X[@]}" socat -b "$PAYLOAD" -u - "UDP:127.0.0.1:$port" <"$WORK/records" ;;
  esac
  t1=$(now)
  wait "$cpid"
  local got
  got=$(sed -n 2p "$out" | awk '{ print $1 }')
  RESULT="$got $(python3 -c "print(f'{$t1 - $t0:.4f}')")"
}

# --- 2. end to end, receiver to /dev/null, counted by the kernel ------------------------
end_to_end() { # TOOL -> RESULT="received dropped sender_seconds drained_seconds"
  local tool=$1 port t0 t1 t2 before after
  port=$(free_port)
  case $tool in
    sockit) "${X[@]}" "$SOCKIT" udp listen --raw "127.0.0.1:$port" >/dev/null 2>&1 </dev/null & ;;
    socat) "${X[@]}" socat -u "UDP-RECV:$port,bind=127.0.0.1" - >/dev/null & ;;
  esac
  local rpid=$!
  PIDS+=("$rpid")
  wait_udp_port "$port"
  before=$(udp_counters)
  t0=$(now)
  case $tool in
    sockit) "${X[@]}" "$SOCKIT" udp send "127.0.0.1:$port" <"$WORK/lines" >/dev/null ;;
    socat) "${X[@]}" socat -b "$PAYLOAD" -u - "UDP:127.0.0.1:$port" <"$WORK/records" ;;
  esac
  t1=$(now)
  wait_queue_empty "$port"
  t2=$(now)
  after=$(udp_counters)
  kill "$rpid" 2>/dev/null || true
  wait "$rpid" 2>/dev/null || true
  RESULT=$(python3 -c "
b = '$before'.split(); a = '$after'.split()
print(int(a[0]) - int(b[0]), int(a[1]) - int(b[1]), f'{$t1 - $t0:.4f}', f'{$t2 - $t0:.4f}')")
}

declare -A R
for r in $(seq 1 "$RUNS"); do
  for tool in sockit socat; do
    sender_into_counter "$tool"
    R[send-$tool]="${R[send-$tool]:-},$RESULT"
    echo "run $r: $tool -> python counter: $RESULT" >&2
    end_to_end "$tool"
    R[e2e-$tool]="${R[e2e-$tool]:-},$RESULT"
    echo "run $r: $tool -> $tool: $RESULT" >&2
  done
done

echo
echo "UDP, $COUNT datagrams of $PAYLOAD bytes over loopback, median of $RUNS runs, in $WHERE"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  host: $(uname -sr), $(nproc) cores, load average at start: $LOAD_START, at end: $(cut -d" " -f1-3 /proc/loadavg)"
echo "versions: $("$SOCKIT" --version 2>/dev/null | head -1) (tree $TREE at build time); $(socat -V 2>/dev/null | grep 'socat version' | head -1)"
echo "$NEWLINE_NOTE"
python3 - "$COUNT" "${R[send-sockit]}" "${R[send-socat]}" "${R[e2e-sockit]}" "${R[e2e-socat]}" <<'EOF'
import statistics, sys
count = int(sys.argv[1])
def runs(col):
    return [[float(x) for x in r.split()] for r in col.split(',') if r.strip()]
send = {'sockit': runs(sys.argv[2]), 'socat': runs(sys.argv[3])}
e2e = {'sockit': runs(sys.argv[4]), 'socat': runs(sys.argv[5])}
rate = {}
print("\n1. sender -> Python counter (received per second of sender time)")
print(f"{'sender':<10}{'received':>10}{'lost':>8}{'sender s':>10}{'dgram/s':>12}   runs dgram/s")
for t, rs in send.items():
    per = [r[0] / r[1] for r in rs]
    m = statistics.median(per)
    mid = sorted(rs, key=lambda r: r[0] / r[1])[len(rs) // 2]
    rate['send-' + t] = m
    print(f"{t:<10}{int(mid[0]):>10}{count - int(mid[0]):>8}{mid[1]:>10.3f}{m:>12,.0f}   {' '.join(f'{x:,.0f}' for x in per)}")
print("\n2. end to end, tool -> same tool, receiver > /dev/null (kernel counters;")
print("   received per second from the sender's start until the receiver has drained its queue)")
print(f"{'pair':<16}{'received':>10}{'dropped':>9}{'sender s':>10}{'total s':>9}{'dgram/s':>12}   runs dgram/s")
for t, rs in e2e.items():
    per = [r[0] / r[3] for r in rs]
    m = statistics.median(per)
    mid = sorted(rs, key=lambda r: r[0] / r[3])[len(rs) // 2]
    rate['e2e-' + t] = m
    print(f"{t + ' -> ' + t:<16}{int(mid[0]):>10}{int(mid[1]):>9}{mid[2]:>10.3f}{mid[3]:>9.3f}{m:>12,.0f}   {' '.join(f'{x:,.0f}' for x in per)}")
print()
print(f"ratio sockit/socat, sender: {rate['send-sockit'] / rate['send-socat']:.2f}")
print(f"ratio sockit/socat, end to end: {rate['e2e-sockit'] / rate['e2e-socat']:.2f}")
EOF
