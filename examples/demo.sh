#!/usr/bin/env bash
# The main job on one machine: a SIPp dialer placing calls from a pool of ten
# caller IDs, sippacer in between, and a SIPp carrier that declines one of
# them (+15550100007) before ring far more often than the rest. Watch that
# number go throttled, then quarantined, while the others keep dialing.
#
#   ./examples/demo.sh                 about 80 s
#   DEMO_SECONDS=30 ./examples/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${DEMO_SECONDS:-60}
rate=10

./tools/install-deps.sh
echo "demo: building"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target sippacer sippacer-ctl >/dev/null

work=$(mktemp -d /tmp/sippacer-demo.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sip_port=$(free_port); carrier_port=$(free_port); dialer_port=$(free_port)
sock=$work/sippacer.sock
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The call list: caller, dialed number. The dialed number's last four digits
# tell the SIPp carrier what to answer (tests/sipp/carrier.xml): 1200 ring
# and answer, 0603 decline before ring, 1486 busy, 0480 unavailable.
bad=15550100007
python3 - "$work/calls.csv" "$((seconds * rate))" "$bad" <<'PY'
import random, sys
path, total, bad = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
pool = [f"1555010{i:04d}" for i in range(10)]
bad_calls = 0
with open(path, "w") as f:
    f.write("SEQUENTIAL\n")
    for i in range(total):
        caller = pool[i % len(pool)]
        r = rng.random()
        if caller == bad:
            bad_calls += 1
            p603 = 0.6 if bad_calls <= 15 else 0.95  # its label spreads: declines climb
            outcome = "0603" if r < p603 else "1200"
        else:
            outcome = "0603" if r < 0.03 else "0480" if r < 0.07 else "1486" if r < 0.12 else "1200"
        f.write(f"{caller};1212555{outcome}\n")
PY

sipp -sf tests/sipp/carrier.xml -i 127.0.0.1 -p "$carrier_port" -nostdin -bg \
  -default_behaviors all,-abortunexp >/dev/null 2>&1 || true
carrier_pid=$(pgrep -f "carrier.xml -i 127.0.0.1 -p $carrier_port" | head -1)
pids+=("$carrier_pid")

build/sippacer --flagfile=examples/sippacer.flags --listen=127.0.0.1:"$sip_port" \
  --trunk=127.0.0.1:"$carrier_port" --stats_socket="$sock" --cdr_file="$work/cdr.jsonl" \
  >"$work/sippacer.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do build/sippacer-ctl --socket="$sock" show info >/dev/null 2>&1 && break; sleep 0.1; done

echo "demo: $((seconds * rate)) calls at $rate/s from 10 caller IDs; +$bad is the one carriers dislike"
echo "demo: files in $work"
sleep 1
(cd "$work" && sipp -sf "$OLDPWD/tests/sipp/dialer.xml" -inf calls.csv -i 127.0.0.1 -p "$dialer_port" \
   127.0.0.1:"$sip_port" -m "$((seconds * rate))" -r "$rate" -d 300 -nostdin -timeout $((seconds + 30)) \
   -default_behaviors all,-abortunexp -trace_stat >/dev/null 2>&1) &
dialer_pid=$!
pids+=("$dialer_pid")

build/sippacer-ctl --socket="$sock" watch --interval=2s --limit=10 --count=$((seconds / 2 + 2))
wait "$dialer_pid" || true
sleep 1

echo
echo "=== summary ==="
build/sippacer-ctl --socket="$sock" show info
echo
build/sippacer-ctl --socket="$sock" show numbers sort=603
echo
echo "--- +$bad"
build/sippacer-ctl --socket="$sock" show number "+$bad"
echo
echo "--- state changes (from the log)"
grep ' pacing: ' "$work/sippacer.log" || echo "(none)"
echo
echo "demo: CDRs in $work/cdr.jsonl ($(wc -l <"$work/cdr.jsonl") calls), log in $work/sippacer.log"
