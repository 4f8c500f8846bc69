"""A Mixtera directory under concurrent first use (docs/reliability.md): several `mixtera
register` processes started at once on a directory that does not exist yet. One registers,
the others fail with a clear error; the directory is never left unusable."""

import json
import os
import subprocess

import pytest


@pytest.fixture
def spec(tmp_path):
    with open(tmp_path / "a.jsonl", "w", encoding="utf-8") as f:
        for i in range(50):
            f.write(json.dumps({"text": f"doc {i}"}) + "\n")
    path = tmp_path / "spec.yaml"
    path.write_text(f"name: a\nformat: jsonl\npath: {tmp_path / 'a.jsonl'}\ntext: text\n")
    return path


def test_an_empty_store_file_is_a_new_store(tmp_path, mixtera_bin):
    # What a crash before DuckDB's first write leaves; every command used to fail on it.
    os.makedirs(tmp_path / "d")
    (tmp_path / "d" / "mixtera.duckdb").write_bytes(b"")
    r = subprocess.run([mixtera_bin, "datasets", str(tmp_path / "d"), "--json"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_concurrent_first_use_never_bricks_the_directory(tmp_path, spec, mixtera_bin):
    for round_ in range(12):
        d = tmp_path / f"d{round_}"
        procs = [subprocess.Popen([mixtera_bin, "register", str(d), str(spec)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(6)]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        ok = [rc for rc, _ in results if rc == 0]
        assert len(ok) >= 1, results
        for rc, err in results:
            if rc != 0:  # the losers say why, and nothing else went wrong
                assert "in use by another process" in err or "already exists" in err, err
        r = subprocess.run([mixtera_bin, "datasets", str(d), "--json"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"round {round_}: {r.stderr}"
        listed = json.loads(r.stdout)
        assert [x["name"] for x in listed] == ["a"] and listed[0]["num_samples"] == 50, listed
