#!/usr/bin/env bash
# Builds sippacer and runs every test: unit (Catch2), integration (the real
# daemon between SIPp dialers and carriers, a real PostgreSQL), the sanitizer
# builds (ASan+UBSan over the unit tests, fuzz corpora and the daemon under
# hostile input; TSan over the concurrent counters), then each libFuzzer
# target on its corpus for a bounded time (tests/fuzz/README.md). Installs
# the Debian packages it needs first.
# The daemon runs on sofia-sip built from Debian's source package with our
# patches (third_party/sofia-sip); a build on Debian's stock libsofia-sip-ua
# runs the relay tests too.
#
#   ./tests/run.sh            everything
#   ./tests/run.sh -L unit    only ctest label "unit" (any ctest arguments pass through)
#   SIPPACER_SKIP_FUZZ=1      no fuzzing; SIPPACER_FUZZ_SECONDS=N per fuzzer (default 20)
#   SIPPACER_SOFIA=stock      everything on Debian's stock sofia-sip
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/install-deps.sh

jobs=$(nproc)

# The architecture: metrics/ and pacing/ stay pure (no SIP stack, no sockets),
# and dependencies point inward (pacing -> metrics, never back).
if grep -rlE '#include [<"](sofia-sip|boost/asio|sys/socket|proxy/)' metrics pacing ||
   grep -rlE '#include [<"]pacing/' metrics; then
  echo "run.sh: the files above break the layering (metrics/ and pacing/ must stay pure)" >&2
  exit 1
fi

# One formatting for the tree (.clang-format): fix with
#   git ls-files '*.cc' '*.h' | xargs clang-format -i
if ! git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror 2>/dev/null; then
  echo "run.sh: files above differ from .clang-format" >&2
  git ls-files '*.cc' '*.h' | xargs clang-format --dry-run 2>&1 | grep -o '^[^:]*:' | sort -u >&2
  exit 1
fi

if [ "${SIPPACER_SOFIA:-patched}" = stock ]; then
  sofia=()
else
  ./third_party/sofia-sip/build.sh build-sofia
  sofia=(-DSIPPACER_SOFIA_PREFIX="$PWD/build-sofia")
fi

echo "run.sh: release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPPACER_SOFIA_PREFIX= "${sofia[@]}" >/dev/null
cmake --build build -j "$jobs"

echo "run.sh: tests"
(cd build && ctest --output-on-failure -j "$jobs" "$@")

if [ $# -eq 0 ] && [ "${SIPPACER_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "run.sh: ASan+UBSan build (unit tests, and the daemon under hostile input)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Asan -DSIPPACER_SOFIA_PREFIX= "${sofia[@]}" >/dev/null
  cmake --build build-asan -j "$jobs" --target sanitizer_tests sippacer sippacer-ctl sippacer-replay
  # Leak checking on: the daemon (and the replay) must free everything at
  # exit. The patched build needs no suppression; the stock package leaks
  # each TLS connection's OpenSSL state (what patch 0007 fixes), suppressed
  # in the all-stock run only (tests/stock-sofia.lsan.supp says why).
  lsan=""
  if [ "${SIPPACER_SOFIA:-patched}" = stock ]; then
    lsan="suppressions=$PWD/tests/stock-sofia.lsan.supp:print_suppressions=0"
  fi
  (cd build-asan && ctest --output-on-failure -j "$jobs" -L "^(unit|tsan)$" &&
     ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="$lsan" ctest --output-on-failure --no-tests=error \
       -R "^(relay_outcomes|relay_dialogs|relay_malformed|relay_stray_ack|relay_edge_invites|relay_refusal_flood|relay_no_leaks|relay_transactions_freed|relay_lost_ack|relay_answered_retransmissions|relay_net_fuzz|relay_sofia_asserts|relay_reinvite_cancel|relay_trunk_listen|relay_headers|relay_100rel|relay_session_timer|relay_trunks|relay_dns|relay_tls|stats_hostile_clients|pacing_lifecycle|replay_agreement|cdr_file|shutdown|fleet_operator|fleet_redis_outage)$")

  echo "run.sh: TSan build (one writer, many readers)"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Tsan -DSIPPACER_SOFIA_PREFIX= "${sofia[@]}" >/dev/null
  cmake --build build-tsan -j "$jobs" --target tsan_tests
  (cd build-tsan && ctest --output-on-failure -L "^tsan$")

  if [ "${SIPPACER_SOFIA:-patched}" != stock ]; then
    echo "run.sh: the relay on Debian's stock sofia-sip (the other build option)"
    cmake -S . -B build-stock -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPPACER_TESTS=ON -DSIPPACER_SOFIA_PREFIX= >/dev/null
    cmake --build build-stock -j "$jobs" --target sippacer sippacer-ctl sippacer-replay
    (cd build-stock && ctest --output-on-failure --no-tests=error -j "$jobs" \
       -R "^(relay_outcomes|relay_dialogs|relay_reinvite_cancel|relay_sofia_asserts|relay_stray_ack|relay_transactions_freed|relay_lost_ack|relay_answered_retransmissions|relay_100rel|relay_trunks|relay_tls|shutdown)$")
  fi
fi

if [ $# -eq 0 ] && [ "${SIPPACER_SKIP_FUZZ:-0}" != 1 ]; then
  # Eleven fuzzers, one after another: 20 s each keeps this near 4 minutes.
  seconds=${SIPPACER_FUZZ_SECONDS:-20}
  echo "run.sh: libFuzzer targets (clang), ${seconds}s each"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Fuzz -DSIPPACER_FUZZ=ON \
    -DSIPPACER_SOFIA_PREFIX= "${sofia[@]}" >/dev/null
  cmake --build build-fuzz -j "$jobs" --target fuzzers
  failed=()
  for name in rules e164 carriers json stats state cdr replay sip trunks fleet_wire; do
    fuzzer=build-fuzz/fuzz/${name}_fuzz
    # New inputs go to a corpus in the build tree; the seeds stay as committed.
    mkdir -p "build-fuzz/corpus/$name" "build-fuzz/crashes/$name" build-fuzz/logs
    dict=(); [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
    # Inputs that once crashed must pass before anything new is looked for.
    if ! "$fuzzer" -runs=0 -rss_limit_mb=2048 -artifact_prefix="build-fuzz/crashes/$name/" \
         "tests/fuzz/regressions/$name" >"build-fuzz/logs/$name.regressions.log" 2>&1; then
      echo "run.sh: $name: a regression input fails:" >&2
      grep -E "runtime error|property failed|ERROR: (Address|libFuzzer)|Test unit written" "build-fuzz/logs/$name.regressions.log" | head -5 >&2
      failed+=("$name(regressions)")
    fi
    if "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -artifact_prefix="build-fuzz/crashes/$name/" "${dict[@]}" \
         "build-fuzz/corpus/$name" "tests/fuzz/corpus/$name" >"build-fuzz/logs/$name.log" 2>&1; then
      echo "run.sh: $name: $(grep -E '^#[0-9]+[[:space:]]+DONE' "build-fuzz/logs/$name.log" | tail -1)"
    else
      echo "run.sh: $name: crash (input in build-fuzz/crashes/$name/, log build-fuzz/logs/$name.log):" >&2
      grep -E "runtime error|property failed|ERROR: (Address|libFuzzer)|SUMMARY" "build-fuzz/logs/$name.log" | head -5 >&2
      failed+=("$name")
    fi
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "run.sh: fuzzers failed: ${failed[*]} (save a new crash under tests/fuzz/regressions/NAME/)" >&2
    exit 1
  fi
fi
echo "run.sh: all tests passed"
