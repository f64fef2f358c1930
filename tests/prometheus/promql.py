"""The Prometheus side of the tests: promtool, the exposition text and the
metric names a PromQL expression reads. Standard library only."""
import json
import os
import re
import shutil

import harness as h

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# Series Prometheus makes itself, not the daemon.
FROM_PROMETHEUS = re.compile(r"^(up|scrape_[a-z_]+|ALERTS|ALERTS_FOR_STATE)$")
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or",
            "unless", "atan2", "inf", "nan",
            # aggregations: `sum by (l) (...)` puts a clause between the name and its parenthesis
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
            "quantile"}


def promtool():
    """The promtool binary; the test fails (never skips) without it."""
    path = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not path:
        h.fail("promtool not found: install Debian's prometheus package "
               "(tools/install-deps.sh does), or set PROMTOOL")
    return path


def metric_names(expr):
    """The metric names a PromQL expression selects (functions, keywords,
    label names, strings, durations and Grafana variables left out)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    e = re.sub(r"#[^\n]*", " ", e)                      # comments
    e = re.sub(r"\{[^}]*\}", " ", e)                    # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                   # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1 ", e)
    e = re.sub(r"\$\{?\w+\}?", " ", e)                  # Grafana variables
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        before = e[m.start() - 1] if m.start() > 0 else " "
        if before.isdigit() or before == ".":           # 1e3, 15m
            continue
        if m.group(0) in KEYWORDS or e[m.end():].lstrip().startswith("("):
            continue
        names.add(m.group(0))
    return names


def grafana_exprs(path):
    """The Prometheus queries of a Grafana dashboard: every target's `expr`."""
    out = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "expr" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    with open(path) as f:
        walk(json.load(f))
    return out


def rule_exprs(path):
    """The `expr` of every rule in a Prometheus rules file, and the names the
    file records (`record:`). Reads the YAML shapes rules files use: a plain
    or quoted scalar on the line, or a block scalar (| or >) below it."""
    with open(path) as f:
        lines = f.read().splitlines()
    exprs, recorded = [], set()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(?:- )?(expr|record):\s*(.*?)\s*$", lines[i])
        i += 1
        if not m:
            continue
        indent, key, value = len(m.group(1)), m.group(2), m.group(3)
        if key == "record":
            recorded.add(value.strip("'\""))
        elif value[:1] in ("|", ">"):
            block = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            exprs.append("\n".join(block))
        else:
            exprs.append(value[1:-1] if value[:1] in ("'", '"') else value)
    return exprs, recorded


def parse_exposition(body):
    """Text format 0.0.4 to ({family: type}, {family: help}, [(name, labels, value)])."""
    types, helps, samples = {}, {}, []
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line.startswith("# HELP "):
            _, _, name, text = line.split(" ", 3)
            helps[name] = text
        elif line and not line.startswith("#"):
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
            h.check(m is not None, f"/metrics: cannot read the line {line!r}")
            labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            samples.append((m.group(1), labels, float(m.group(3))))
    return types, helps, samples
