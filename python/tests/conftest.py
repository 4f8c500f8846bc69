import os
import sys

import pytest

import real_text

# The package lives in the build tree (PYTHONPATH=build/python); fall back to ./build.
_here = os.path.dirname(os.path.abspath(__file__))
_default_build = os.path.join(_here, "..", "..", "build", "python")
if not any(os.path.isdir(os.path.join(p, "mixtera")) and os.path.exists(os.path.join(p, "mixtera", "client.py"))
           for p in sys.path if p):
    sys.path.insert(0, os.path.abspath(_default_build))


@pytest.fixture
def mixtera_bin():
    path = os.environ.get("MIXTERA_BIN") or os.path.join(_here, "..", "..", "build", "bin", "mixtera")
    return os.path.abspath(path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report (setup, call or teardown) names the corpora of this machine's
    files that its module built (real_text.fingerprint), so a failure on another machine
    says which corpus it ran on."""
    outcome = yield
    report = outcome.get_result()
    module = getattr(item, "module", None)
    lines = real_text.FINGERPRINTS.get(module.__name__) if module is not None else None
    if report.failed and lines:
        report.sections.append(("real-text corpora", "\n".join(lines)))
