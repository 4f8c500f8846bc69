"""What the planner reports for a strict mixture that cannot fill one chunk (issue: hardening,
8): it used to warn that the weights "round to 0", say the keys "never" run out and exit 0
with 0 chunks and no word why."""

import json
import subprocess

import pytest

from mixtera import MixteraClient, MixtureKey, Query, QueryExecutionArgs, StaticMixture


@pytest.fixture
def store(tmp_path):
    with open(tmp_path / "a.jsonl", "w", encoding="utf-8") as f:
        for i in range(941):
            f.write(json.dumps({"text": f"d{i}", "lang": "en" if i % 2 else "de"}) + "\n")
    client = MixteraClient.from_directory(tmp_path / "mx")
    client.register_dataset("p", {"format": "jsonl", "path": str(tmp_path / "a.jsonl"), "text": "text",
                                  "properties": {"lang": "string"}})
    client.close()
    (tmp_path / "m.yaml").write_text("type: static\nchunk_size: 2000\nstrict: true\nweights:\n"
                                     "  - {key: {lang: [en]}, weight: 0.5}\n  - {key: {lang: [de]}, weight: 0.5}\n")
    return tmp_path


def test_a_strict_key_short_of_one_chunk_is_reported_as_such(store, mixtera_bin):
    r = subprocess.run([mixtera_bin, "query", str(store / "mx"), "--mixture", str(store / "m.yaml"), "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    # 2000 x 0.5 = 1000 per key and chunk (not "rounds to 0"); en has 470 of 941 samples.
    assert [k["per_chunk"] for k in report["keys"]] == [1000, 1000]
    assert [k["available"] for k in report["keys"]] == [470, 471]
    assert "rounds to 0" not in r.stderr
    assert 'the job holds no chunk: key {"lang":["en"]} needs 1000 per chunk and has 470' in r.stderr
    text = subprocess.run([mixtera_bin, "query", str(store / "mx"), "--mixture", str(store / "m.yaml")],
                          capture_output=True, text=True, timeout=60).stdout
    assert "short at chunk 0" in text and "never" not in text
    client = MixteraClient.from_directory(store / "mx")
    mix = StaticMixture(2000, {MixtureKey({"lang": ["en"]}): 0.5, MixtureKey({"lang": ["de"]}): 0.5}, strict=True)
    summary = client.execute_query(Query.for_job("short").select(None), QueryExecutionArgs(mixture=mix))
    assert summary["num_chunks"] == 0
    assert any("the job holds no chunk" in w for w in summary["warnings"])
    assert [k["per_chunk"] for k in summary["keys"]] == [1000, 1000]
    client.close()
