"""`make demo`, small: tools/demo.py --quick builds its corpus from this machine's files,
registers it, runs a token-level static mixture estimated and then with exact token counts,
and trains a tiny LM from a 2-worker DataLoader. Its report.json is checked against the
mixture's weights (numbers the demo cannot choose) and for learning."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

_here = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(_here, "..", ".."))


def test_quick_demo_delivers_the_mixture_exactly_and_learns(tmp_path, mixtera_bin):
    build = os.path.dirname(os.path.dirname(os.path.abspath(mixtera_bin)))
    out = tmp_path / "demo"
    run = subprocess.run([sys.executable, os.path.join(REPO, "tools", "demo.py"), "--build", build, "--quick",
                          "--out", str(out)], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.load(open(out / "report.json"))
    weights = [k["weight"] for k in report["keys"]]
    exact = report["jobs"]["exact"]
    assert exact["wasted_tokens"] == 0
    for share, w in zip(exact["share"], weights):
        assert share == pytest.approx(w, abs=1e-9)
    # Estimates on the quick corpus (a few chunks): within 2 percentage points.
    estimated = report["jobs"]["estimated"]
    for share, w in zip(estimated["share"], weights):
        assert abs(share - w) <= 0.02
    # What the model trained on: whole chunks of the exact job, so exactly the weights too.
    windows = report["train"]["windows"]
    assert sum(windows) == report["train"]["steps"] * report["train"]["batch"]
    before = report["train"]["heldout_before"]
    after = report["train"]["heldout_after"]
    assert sum(after.values()) < sum(before.values())
