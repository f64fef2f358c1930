#!/usr/bin/env bash
# Builds sippacer and runs every test: unit (Catch2), integration (the real
# daemon between SIPp dialers and carriers, a real PostgreSQL), and the
# sanitizer builds (ASan+UBSan over the unit tests and fuzz corpora, TSan over
# the concurrent counters). Installs the Debian packages it needs first.
#
#   ./tests/run.sh            everything
#   ./tests/run.sh -L unit    only ctest label "unit" (any ctest arguments pass through)
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

echo "run.sh: release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"

echo "run.sh: tests"
(cd build && ctest --output-on-failure -j "$jobs" "$@")

if [ $# -eq 0 ] && [ "${SIPPACER_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "run.sh: ASan+UBSan build (unit tests, and the daemon under hostile input)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Asan >/dev/null
  cmake --build build-asan -j "$jobs" --target sanitizer_tests sippacer sippacer-ctl sippacer-replay
  # Leak checking on: the daemon (and the replay) must free everything at
  # exit. No suppressions are needed for sofia-sip 1.12.11 today.
  (cd build-asan && ctest --output-on-failure -j "$jobs" -L "^(unit|tsan)$" &&
     ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$jobs" \
       -R "^(relay_outcomes|relay_dialogs|relay_malformed|relay_stray_ack|relay_edge_invites|relay_refusal_flood|relay_no_leaks|stats_hostile_clients|pacing_lifecycle|replay_agreement|cdr_file|shutdown)$")

  echo "run.sh: TSan build (one writer, many readers)"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Tsan >/dev/null
  cmake --build build-tsan -j "$jobs" --target tsan_tests
  (cd build-tsan && ctest --output-on-failure -L "^tsan$")
fi
echo "run.sh: all tests passed"
