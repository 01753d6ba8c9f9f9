#!/usr/bin/env bash
# Relay throughput on loopback: SIZE bytes from a client through a relay to a sink,
# sockit relay vs socat (default 8 KiB blocks and -b 131072), in one run, interleaved.
#
#   sink:    sockit tcp listen --once 127.0.0.1:S > /dev/null < /dev/null
#   relay:   sockit relay tcp-listen:127.0.0.1:R tcp:127.0.0.1:S
#            socat TCP-LISTEN:R,bind=127.0.0.1,reuseaddr TCP:127.0.0.1:S   (and with -b 131072)
#   client:  dd if=/dev/zero bs=1M count=SIZE iflag=count_bytes | sockit tcp connect 127.0.0.1:R
#
# The clock runs from starting the client to the sink's exit (the last byte arrived).
# Environment: SIZE (default 2 GiB), RUNS (default 3), SOCKIT (default target/release/sockit).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-2147483648}
RUNS=${RUNS:-3}
SOCKIT=${SOCKIT:-target/release/sockit}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p sockit
command -v socat >/dev/null || { echo "missing: socat" >&2; exit 1; }
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listen() { for _ in $(seq 1 500); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.01; done; return 1; }

one() { # TOOL -> seconds
  local s r sink relay start end
  s=$(free_port); r=$(free_port)
  "$SOCKIT" tcp listen --once "127.0.0.1:$s" >/dev/null 2>/dev/null </dev/null & sink=$!
  wait_listen "$s"
  case "$1" in
    sockit) "$SOCKIT" relay "tcp-listen:127.0.0.1:$r" "tcp:127.0.0.1:$s" ${RELAY_ARGS:-} 2>/dev/null & relay=$! ;;
    socat) socat "TCP-LISTEN:$r,bind=127.0.0.1,reuseaddr" "TCP:127.0.0.1:$s" & relay=$! ;;
    socat-b128k) socat -b 131072 "TCP-LISTEN:$r,bind=127.0.0.1,reuseaddr" "TCP:127.0.0.1:$s" & relay=$! ;;
  esac
  wait_listen "$r"
  start=$(date +%s.%N)
  dd if=/dev/zero bs=1M count="$SIZE" iflag=count_bytes status=none | "$SOCKIT" tcp connect "127.0.0.1:$r" >/dev/null 2>&1 || true
  wait "$sink" || true
  end=$(date +%s.%N)
  kill "$relay" 2>/dev/null || true; wait "$relay" 2>/dev/null || true
  python3 -c "print(f'{$end-$start:.3f}')"
}

declare -A times
for run in $(seq 1 "$RUNS"); do
  for tool in sockit socat socat-b128k; do
    t=$(one "$tool"); times[$tool]+="$t "
    echo "run $run: $tool $t s"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "relay over loopback: $SIZE bytes, median of $RUNS; $(date -u +%FT%TZ), $(nproc) cores, load at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
for tool in sockit socat socat-b128k; do
  m=$(echo "${times[$tool]}" | median)
  python3 -c "print(f'{\"$tool\":<12} {$m:8.3f} s  {$SIZE/$m/1e9:6.2f} GB/s   runs: ${times[$tool]}')"
done
