#!/usr/bin/env bash
# The main job on one machine: a SIPp dialer placing calls from a pool of ten
# caller IDs, sippacer in between, and a SIPp carrier that declines one of
# them (+15550100007) before ring far more often than the rest. Watch that
# number go throttled, then quarantined, while the others keep dialing.
#
#   ./examples/demo.sh                 60 s of calls (about 75 s in all, once built)
#   DEMO_SECONDS=30 ./examples/demo.sh
#
# Environment:
#   DEMO_SECONDS       seconds of dialing (default 60; 30 is enough to see both states)
#   DEMO_SIP_PORT      sippacer's SIP port (default: a free one)
#   DEMO_CARRIER_PORT  the SIPp carrier's port (default: a free one)
#   DEMO_DIALER_PORT   the SIPp dialer's port (default: a free one)
#   DEMO_METRICS_PORT  serve Prometheus text on 127.0.0.1:PORT/metrics too (default: off)
#   SIPPACER_BUILD_DIR the build tree to build and run (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${DEMO_SECONDS:-60}
rate=10
build=${SIPPACER_BUILD_DIR:-build}
if [ "$seconds" -lt 20 ]; then
  echo "demo: DEMO_SECONDS=$seconds is too short for the number to reach quarantine; use 20 or more" >&2
  exit 2
fi

./tools/install-deps.sh
echo "demo: building in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target sippacer sippacer-ctl >/dev/null

work=$(mktemp -d /tmp/sippacer-demo.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sip_port=${DEMO_SIP_PORT:-$(free_port)}
carrier_port=${DEMO_CARRIER_PORT:-$(free_port)}
dialer_port=${DEMO_DIALER_PORT:-$(free_port)}
sock=$work/sippacer.sock
metrics=()
[ -z "${DEMO_METRICS_PORT:-}" ] || metrics=(--metrics_listen=127.0.0.1:"$DEMO_METRICS_PORT")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The call list: caller, dialed number. The dialed number's last four digits
# tell the SIPp carrier what to answer (tests/sipp/carrier.xml): 1200 ring
# and answer, 0603 decline before ring, 1486 busy, 0480 unavailable.
# The other nine numbers are declined before ring 3% of the time. The bad
# number's first 10 calls are declined 60% of the time: over the 20% line
# of the throttle rule, at the 60% line of the quarantine rule (the two
# rules in examples/sippacer.flags); then its label spreads and 95% are.
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
            p603 = 0.6 if bad_calls <= 10 else 0.95  # its label spreads: declines climb
            outcome = "0603" if r < p603 else "1200"
        else:
            outcome = "0603" if r < 0.03 else "0480" if r < 0.07 else "1486" if r < 0.12 else "1200"
        f.write(f"{caller};1212555{outcome}\n")
PY

sipp -sf tests/sipp/carrier.xml -i 127.0.0.1 -p "$carrier_port" -nostdin -bg \
  -default_behaviors all,-abortunexp >/dev/null 2>&1 || true
carrier_pid=$(pgrep -f "carrier.xml -i 127.0.0.1 -p $carrier_port" | head -1 || true)
if [ -z "$carrier_pid" ]; then
  echo "demo: the SIPp carrier did not start on 127.0.0.1:$carrier_port (DEMO_CARRIER_PORT in use?)" >&2
  exit 1
fi
pids+=("$carrier_pid")

"$build"/sippacer --flagfile=examples/sippacer.flags --listen=127.0.0.1:"$sip_port" \
  --trunk=127.0.0.1:"$carrier_port" --stats_socket="$sock" --cdr_file="$work/cdr.jsonl" "${metrics[@]}" \
  >"$work/sippacer.log" 2>&1 &
daemon_pid=$!
pids+=("$daemon_pid")
for _ in $(seq 50); do "$build"/sippacer-ctl --socket="$sock" show info >/dev/null 2>&1 && break; sleep 0.1; done
if ! kill -0 "$daemon_pid" 2>/dev/null; then
  echo "demo: sippacer did not start (DEMO_SIP_PORT in use?):" >&2
  cat "$work/sippacer.log" >&2
  exit 1
fi

echo "demo: $((seconds * rate)) calls at $rate/s from 10 caller IDs; +$bad is the one carriers dislike"
echo "demo: sippacer on 127.0.0.1:$sip_port, carrier on 127.0.0.1:$carrier_port, dialer on 127.0.0.1:$dialer_port"
[ -z "${DEMO_METRICS_PORT:-}" ] || echo "demo: metrics on http://127.0.0.1:$DEMO_METRICS_PORT/metrics"
echo "demo: files in $work"
echo "demo: the table counts each number's calls over the last 5 minutes, the window of every rule in"
echo "      examples/sippacer.flags (here: since the start); a REASON names the rule and the run of"
echo "      calls in that window that took the number over the rule's line"
sleep 1
(cd "$work" && sipp -sf "$OLDPWD/tests/sipp/dialer.xml" -inf calls.csv -i 127.0.0.1 -p "$dialer_port" \
   127.0.0.1:"$sip_port" -m "$((seconds * rate))" -r "$rate" -d 300 -nostdin -timeout $((seconds + 30)) \
   -default_behaviors all,-abortunexp -trace_stat >/dev/null 2>&1) &
dialer_pid=$!
pids+=("$dialer_pid")

"$build"/sippacer-ctl --socket="$sock" watch --interval=2s --limit=10 --count=$((seconds / 2 + 2))
wait "$dialer_pid" || true
sleep 1

echo
echo "=== summary ==="
"$build"/sippacer-ctl --socket="$sock" show info
echo
"$build"/sippacer-ctl --socket="$sock" show numbers sort=603
echo
echo "--- +$bad"
"$build"/sippacer-ctl --socket="$sock" show number "+$bad"
echo
echo "--- state changes (from the log)"
grep ' pacing: ' "$work/sippacer.log" || echo "(none)"
echo
echo "demo: CDRs in $work/cdr.jsonl ($(wc -l <"$work/cdr.jsonl") calls), log in $work/sippacer.log"
