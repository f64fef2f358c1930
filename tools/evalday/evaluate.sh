#!/usr/bin/env bash
# The full evaluation behind the README's table (a benchmark, not a CI test):
# three 12-hour days of 240 numbers (seeds 1-3), each replayed with the
# default policy and scored beside the seed's literal rules; then the replay's
# speed on a day of about a million CDRs.
#
#   tools/evalday/evaluate.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
replay="$build/sippacer-replay"
[ -x "$replay" ] || { echo "evaluate.sh: build $replay first" >&2; exit 2; }
work=$(mktemp -d /tmp/sippacer-evaluate-XXXXXX)
trap 'rm -rf "$work"' EXIT

for seed in 1 2 3; do
  day="$work/day$seed"
  python3 tools/evalday/generate.py --seed "$seed" --out "$day" >/dev/null
  "$replay" --carriers="$day/carriers.csv" --timezone=America/New_York "$day/cdr.jsonl" >"$day/events.jsonl"
  python3 tools/evalday/literal_rules.py "$day/cdr.jsonl" >"$day/literal.jsonl"
  echo "== seed $seed: $(wc -l <"$day/cdr.jsonl") calls"
  python3 tools/evalday/score.py --truth "$day/truth.json" --label "sippacer defaults" --events "$day/events.jsonl" \
    --compare "seed's literal rules" "$day/literal.jsonl"
done

echo "== replay speed: 1,500 numbers for 12 hours"
big="$work/big"
python3 tools/evalday/generate.py --seed 9 --numbers 1500 --out "$big" >/dev/null
echo "$(wc -l <"$big/cdr.jsonl") CDRs, $(du -m "$big/cdr.jsonl" | cut -f1) MB"
/usr/bin/time -f "sippacer-replay: %e s wall, %U s user, %M KB peak RSS" \
  "$replay" --carriers="$big/carriers.csv" --timezone=America/New_York --summary "$big/cdr.jsonl" >/dev/null
