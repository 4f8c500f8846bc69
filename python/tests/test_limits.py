"""The table of limits (docs/reliability.md, "Limits"): the documented table, the one the core
checks (_mixtera.limits()), the CLI and the Python classes agree, and the values that used to
hang or wrap around are refused."""

import json
import os
import re
import subprocess

import pytest

import mixtera
from mixtera import (InvalidArgumentError, MixteraClient, MixtureKey, Query, QueryExecutionArgs,
                     ResultStreamingArgs, StaticMixture)
from mixtera import _mixtera

_here = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(_here, "..", "..", "docs", "reliability.md")


def documented_table():
    rows = {}
    text = open(DOC, encoding="utf-8").read()
    section = text.split("## Limits", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|\s*(-?\d+)\s*\|\s*(-?\d+)", line)
        if m:
            rows[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return rows


def test_the_documented_table_is_the_one_the_core_checks():
    assert documented_table() == _mixtera.limits()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("limits")
    with open(root / "a.jsonl", "w", encoding="utf-8") as f:
        for i in range(50):
            f.write(json.dumps({"text": f"doc {i}", "lang": "en" if i % 2 else "de"}) + "\n")
    client = MixteraClient.from_directory(root / "mx")
    client.register_dataset("d", {"name": "d", "format": "jsonl", "path": str(root / "a.jsonl"), "text": "text",
                                  "properties": {"lang": "string"}})
    client.close()
    return root


def cli(mixtera_bin, *args):
    # A value that hangs would fail here on the timeout instead of blocking the suite.
    return subprocess.run([mixtera_bin, *args], capture_output=True, text=True, timeout=60)


def test_the_cli_refuses_seeds_outside_uint64_instead_of_wrapping(store, mixtera_bin, tmp_path):
    mixfile = tmp_path / "m.yaml"
    mixfile.write_text("type: inferring\nchunk_size: 10\nstrict: false\ngroup_by: [lang]\nshuffle: {block: 1}\n")
    base = ["chunks", str(store / "mx"), "--mixture", str(mixfile), "--json", "--limit", "1"]
    for bad in ("-1", "18446744073709551616", "1e3", "seven"):
        r = cli(mixtera_bin, *base, "--seed", bad)
        assert r.returncode != 0, bad
        assert f"--seed must be an integer in [0, 2^64), got '{bad}'" in r.stderr, r.stderr
    top = cli(mixtera_bin, *base, "--seed", "18446744073709551615")
    assert top.returncode == 0, top.stderr
    zero = cli(mixtera_bin, *base, "--seed", "0")
    assert zero.returncode == 0 and zero.stdout != top.stdout  # the seed reached the plan


def test_the_cli_checks_its_numbers_against_the_table(store, mixtera_bin, tmp_path):
    mixfile = tmp_path / "m.yaml"
    mixfile.write_text("type: inferring\nchunk_size: 10\nstrict: false\ngroup_by: [lang]\n")
    base = ["chunks", str(store / "mx"), "--mixture", str(mixfile)]
    low, high = _mixtera.limits()["dp_groups"]
    r = cli(mixtera_bin, *base, "--dp-groups", "0")
    assert r.returncode != 0 and f"--dp-groups must be in [{low}, {high}], got 0" in r.stderr
    r = cli(mixtera_bin, *base, "--limit", "-5")
    assert r.returncode != 0 and "--limit must be in [0, " in r.stderr
    low, high = _mixtera.limits()["threads"]
    r = cli(mixtera_bin, "count-tokens", str(store / "mx"), "d", "--tokenizer", "x.json", "--threads", "-1")
    assert r.returncode != 0 and f"--threads must be in [{low}, {high}], got -1" in r.stderr


def test_a_chunk_size_of_the_largest_int64_is_refused_not_a_hang(store, mixtera_bin, tmp_path):
    mixfile = tmp_path / "huge.yaml"
    mixfile.write_text("type: static\nchunk_size: 9223372036854775807\nstrict: false\n"
                       "weights:\n  - {key: {lang: [en]}, weight: 0.5}\n  - {key: {lang: [de]}, weight: 0.5}\n")
    r = cli(mixtera_bin, "chunks", str(store / "mx"), "--mixture", str(mixfile), "--limit", "1")
    assert r.returncode != 0
    assert "chunk_size must be in [1, 1099511627776], got 9223372036854775807" in r.stderr
    with pytest.raises(InvalidArgumentError, match=r"chunk_size must be in \[1, 1099511627776\]"):
        StaticMixture(2**63 - 1, {MixtureKey({"lang": ["en"]}): 1.0})
    with pytest.raises(InvalidArgumentError, match=r"chunk_size must be in \[1, 1099511627776\], got 0"):
        StaticMixture(0, {MixtureKey({"lang": ["en"]}): 1.0})


def test_python_arguments_use_the_same_table(store):
    low, high = _mixtera.limits()["dp_groups"]
    with pytest.raises(InvalidArgumentError, match=re.escape(f"dp_groups must be in [{low}, {high}], got 0")):
        QueryExecutionArgs(dp_groups=0)
    with pytest.raises(InvalidArgumentError, match=r"num_workers must be in \[0, 1024\], got 5000"):
        QueryExecutionArgs(num_workers=5000)
    with pytest.raises(InvalidArgumentError, match=r"prefetch_chunks must be in \[0, 1024\], got -1"):
        ResultStreamingArgs("j", prefetch_chunks=-1)
    with pytest.raises(InvalidArgumentError, match=r"seed must be an integer in \[0, 2\^64\)"):
        StaticMixture(10, {MixtureKey({"lang": ["en"]}): 1.0}, seed=-1)
    with pytest.raises(InvalidArgumentError, match=r"shuffle_block must be in"):
        StaticMixture(10, {MixtureKey({"lang": ["en"]}): 1.0}, shuffle_block=-3)
    # The largest allowed chunk size plans without overflow (best effort: one partial chunk).
    client = MixteraClient.from_directory(store / "mx")
    try:
        big = StaticMixture(2**40, {MixtureKey({"lang": ["en"]}): 0.5, MixtureKey({"lang": ["de"]}): 0.5},
                            strict=False)
        summary = client.execute_query(Query.for_job("big").select(None), QueryExecutionArgs(mixture=big))
        assert summary["num_chunks"] == 1
        chunk = client.get_chunk("big", 0)
        assert sum(p["num_samples"] for p in chunk["keys"]) == 50
    finally:
        client.close()
