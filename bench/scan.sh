#!/usr/bin/env bash
# Port scan wall time on loopback: `sockit scan` vs OpenBSD `nc -z`, 1,000 ports of
# 127.0.0.1 (closed unless something happens to listen there), interleaved, median.
# Environment: RUNS (default 5), PORTS (default 40000-40999), SOCKIT (default
# target/release/sockit), NO_BUILD=1 to skip the build.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
PORTS=${PORTS:-40000-40999}
SOCKIT=${SOCKIT:-target/release/sockit}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p sockit
command -v nc >/dev/null || { echo "missing: nc" >&2; exit 1; }
LOAD=$(cut -d" " -f1-3 /proc/loadavg)
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.4f}')"; }
declare -a S N
for _ in $(seq 1 "$RUNS"); do
  S+=("$(t "$SOCKIT" scan 127.0.0.1 "$PORTS")")
  N+=("$(t nc -z 127.0.0.1 "$PORTS")")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(med "${S[@]}"); mn=$(med "${N[@]}")
echo "scan of $PORTS on 127.0.0.1, median of $RUNS; $(date -u +%FT%TZ), load at start $LOAD"
echo "sockit scan  $ms s   runs: ${S[*]}"
echo "nc -z        $mn s   runs: ${N[*]}"
python3 -c "print(f'nc time / sockit time = {$mn/$ms:.2f}')"
