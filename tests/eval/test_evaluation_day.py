"""The decision test: small synthetic dialing days with ground truth
(tools/evalday) replayed through the daemon's own Store and Pacer with the
default policy. Fails when an unlabelled number is paced or a labelled one is
never paced after its onset (score.py --strict names each)."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EVALDAY = os.path.join(ROOT, "tools", "evalday")
REPLAY = os.environ["SIPPACER_REPLAY"]

failed = False
for seed in (11, 12, 13, 14, 15):
    out = tempfile.mkdtemp(prefix=f"sippacer-evalday-{seed}-")
    subprocess.run([sys.executable, os.path.join(EVALDAY, "generate.py"), "--seed", str(seed),
                    "--numbers", "60", "--hours", "4", "--out", out], check=True, capture_output=True)
    with open(os.path.join(out, "events.jsonl"), "w") as events:
        subprocess.run([REPLAY, f"--carriers={out}/carriers.csv", "--timezone=America/New_York",
                        os.path.join(out, "cdr.jsonl")], check=True, stdout=events)
    score = subprocess.run([sys.executable, os.path.join(EVALDAY, "score.py"), "--truth",
                            os.path.join(out, "truth.json"), "--events", os.path.join(out, "events.jsonl"),
                            "--label", f"seed {seed}", "--strict"], capture_output=True, text=True)
    print(score.stdout)
    if score.returncode != 0:
        print(f"FAIL: seed {seed}:\n{score.stderr}")
        failed = True
if failed:
    sys.exit(1)
print("evaluation days: no unlabelled number paced, every labelled number paced")
