"""Bad input gets an error that says what is wrong (issue: hardening, 10): dataset names that
are not UTF-8 or hold control characters, and NaN in a query, used to surface as a database
bind failure, a truncated message or raw JSON parser text."""

import json
import math
import os
import subprocess

import pytest

import mixtera
from mixtera import InvalidArgumentError, MixteraClient, Query


@pytest.fixture
def client(tmp_path):
    with open(tmp_path / "a.jsonl", "w", encoding="utf-8") as f:
        for i in range(10):
            f.write(json.dumps({"text": f"d{i}", "score": i / 2}) + "\n")
    c = MixteraClient.from_directory(tmp_path / "mx")
    c.register_dataset("ok", {"format": "jsonl", "path": str(tmp_path / "a.jsonl"), "text": "text",
                              "properties": {"score": "float"}})
    yield c
    c.close()


def test_dataset_names_with_nul_or_control_characters_are_refused(client, tmp_path):
    for name, why in (("a\x00b", "control characters"), ("tab\there", "control characters"), ("x" * 300, "256")):
        with pytest.raises(InvalidArgumentError, match=why):
            client.register_dataset(name, {"format": "jsonl", "path": str(tmp_path / "a.jsonl"), "text": "text"})
    assert client.list_datasets() == ["ok"]


def test_a_non_utf8_name_on_the_command_line_says_so(client, tmp_path, mixtera_bin):
    client.close()
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(b"name: caf\xe9\nformat: jsonl\npath: a.jsonl\ntext: text\n")
    r = subprocess.run([mixtera_bin, "register", str(tmp_path / "mx"), str(spec)], capture_output=True, timeout=60)
    assert r.returncode != 0
    assert b"must be valid UTF-8" in r.stderr, r.stderr
    assert b"bind" not in r.stderr
    r = subprocess.run([mixtera_bin, "remove", str(tmp_path / "mx"), b"caf\xe9"], capture_output=True, timeout=60)
    assert r.returncode != 0 and b"must be valid UTF-8" in r.stderr and b"bind" not in r.stderr, r.stderr


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_in_a_query_are_refused_clearly(value):
    with pytest.raises(InvalidArgumentError, match="not a finite number"):
        Query.for_job("q").select(("score", "<", value))
    with pytest.raises(InvalidArgumentError, match="not a finite number"):
        Query.for_job("q").select(("score", "==", [1.0, value]))


def test_integers_beyond_int64_in_a_query_are_refused_clearly():
    with pytest.raises(InvalidArgumentError, match="outside int64"):
        Query.for_job("q").select(("score", "<", 2**70))
