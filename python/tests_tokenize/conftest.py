"""Fixtures of the tokenizer exactness tests and the summary printed at the end
(helpers in tokenizer_oracles.py)."""
import os

import pytest

from tokenizer_oracles import REPORT, CORPUS, Corpus, OracleRunner, build_dir, report


@pytest.fixture(scope="session")
def mixtera_tokenizer_cls():
    try:
        import mixtera
    except ImportError as e:
        pytest.fail(f"cannot import mixtera ({e}); build first (make build) and run with "
                    "PYTHONPATH=build/python", pytrace=False)
    cls = getattr(mixtera, "Tokenizer", None)
    if cls is None:
        pytest.fail(f"mixtera ({mixtera.__file__}) has no Tokenizer", pytrace=False)
    return cls


@pytest.fixture(scope="session")
def corpus():
    c = Corpus(CORPUS)
    if "MIXTERA_TOKENIZER_CORPUS" not in os.environ and c.text_bytes < 20_000_000:
        pytest.fail(f"{CORPUS} holds only {c.text_bytes / 1e6:.1f} MB of text (20 MB expected): "
                    "delete it and run `make setup`", pytrace=False)
    report(f"corpus {CORPUS}: {len(c)} docs, {c.text_bytes / 1e6:.1f} MB of text, "
           f"sha256 {c.sha256[:16]}…")
    return c


@pytest.fixture(scope="session")
def oracle_runner():
    runner = OracleRunner(build_dir() / "tokenizer_oracle_cache")
    yield runner
    runner.stop()


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("tokenizer exactness")
        for line in REPORT:
            terminalreporter.write_line(line)
