import os
import sys

import pytest

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
