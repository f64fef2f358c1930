"""The shipped alert rules (examples/prometheus/*.yml) pass `promtool check
rules`, and their unit tests (tests/prometheus/*.test.yml) pass `promtool
test rules`; each alert is shown there both firing and not firing."""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402
import promql  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
tool = promql.promtool()
rules = sorted(glob.glob(os.path.join(promql.ROOT, "examples", "prometheus", "*.yml")))
tests = sorted(glob.glob(os.path.join(here, "*.test.yml")))
h.check(rules and tests, f"no rules files ({rules}) or no rule tests ({tests})")

for argv in ([tool, "check", "rules"] + rules, [tool, "test", "rules"] + tests):
    p = subprocess.run(argv, cwd=here, capture_output=True, text=True, timeout=120)
    h.check(p.returncode == 0, f"{' '.join(argv[:3])} failed:\n{p.stdout}{p.stderr}")

alerts = set()
for path in rules:
    with open(path) as f:
        alerts |= set(re.findall(r"^\s*- alert:\s*(\w+)", f.read(), re.M))
text = ""
for path in tests:
    with open(path) as f:
        text += f.read()
for a in sorted(alerts):
    h.check(re.search(rf"alertname: {a}, exp_alerts: \[\]", text), f"no test of {a} not firing")
    h.check(re.search(rf"alertname: {a}\n\s*exp_alerts:\n\s*- exp_labels:", text), f"no test of {a} firing")
print(f"alert rules: ok ({len(alerts)} alerts)")
