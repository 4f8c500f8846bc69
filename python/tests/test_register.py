"""Bindings and glue of dataset registration: argument conversion, exception classes, the
parser hook, the CLI conventions. The logic itself is tested in C++."""

import gzip
import json
import os
import shutil
import subprocess
import threading
import time

import pytest

import mixtera
from mixtera import MixteraClient


def write_jsonl(path, records, blank_every=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for i, r in enumerate(records):
            if blank_every and i and i % blank_every == 0:
                f.write("\n")
            f.write(json.dumps(r) + "\n")


RECORDS = [{"text": f"doc {i}", "lang": ["en", "de", "fr"][i % 3], "n": i,
            "meta": {"lic": "MIT" if i % 2 else "BSD"}} for i in range(30)]


def test_register_dict_spec_and_query_info(tmp_path, monkeypatch):
    write_jsonl(str(tmp_path / "data" / "a.jsonl"), RECORDS, blank_every=7)
    monkeypatch.chdir(tmp_path)
    client = MixteraClient.from_directory(tmp_path / "mx")
    report = client.register_dataset("a", {"format": "jsonl", "path": "data/*.jsonl", "text": "text",
                                           "properties": {"lang": "string", "n": "int",
                                                          "lic": {"type": "enum", "values": ["MIT", "BSD"],
                                                                  "field": "/meta/lic"}}})
    assert report["num_samples"] == 30 and report["num_files"] == 1 and report["num_skipped"] == 0
    assert client.list_datasets() == ["a"]
    assert client.check_dataset_exists("a") and not client.check_dataset_exists("b")
    info = client.dataset_info("a")
    assert info["num_samples"] == 30 and info["format"] == "jsonl"
    assert [(p["name"], p["type"]) for p in info["properties"]] == [("lang", "string"), ("n", "int"), ("lic", "enum")]
    assert client.remove_dataset("a") is True
    assert client.list_datasets() == []


def test_errors_map_to_exception_classes_with_messages(tmp_path):
    write_jsonl(str(tmp_path / "a.jsonl"), [{"n": 1}, {"n": "2"}])
    client = MixteraClient.from_directory(tmp_path / "mx")
    spec = {"name": "bad", "format": "jsonl", "path": str(tmp_path / "a.jsonl"), "properties": {"n": "int"}}
    with pytest.raises(mixtera.InvalidArgumentError) as e:
        client.register_dataset(None, spec)
    assert "a.jsonl: line 2: property 'n' (int): expected an integer, got string \"2\"" in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, mixtera.MixteraError)
    with pytest.raises(mixtera.NotFoundError):
        client.dataset_info("bad")  # nothing was registered
    with pytest.raises(LookupError):
        client.remove_dataset("bad")
    with pytest.raises(mixtera.InvalidArgumentError, match="differs from the spec's name"):
        client.register_dataset("other", spec)
    with pytest.raises(mixtera.NotFoundError, match="matches no files"):
        client.register_dataset("x", {"format": "jsonl", "path": str(tmp_path / "none" / "*.jsonl")})
    with pytest.raises(mixtera.InvalidArgumentError, match="unknown spec key 'colour'"):
        client.register_dataset("x", {"format": "jsonl", "path": "a", "colour": "red"})
    spec["on_error"] = "skip"
    assert client.register_dataset("bad", spec)["num_skipped"] == 1
    with pytest.raises(mixtera.AlreadyExistsError, match="already exists"):
        client.register_dataset("bad", spec)


def test_spec_file_and_name_check(tmp_path):
    write_jsonl(str(tmp_path / "d" / "x.jsonl"), RECORDS)
    (tmp_path / "d" / "spec.yaml").write_text("name: x\nformat: jsonl\npath: '*.jsonl'\nproperties: {lang: string}\n")
    client = MixteraClient.from_directory(str(tmp_path / "mx"))
    with pytest.raises(mixtera.InvalidArgumentError, match="differs"):
        client.register_dataset("y", tmp_path / "d" / "spec.yaml")
    assert client.register_dataset("x", tmp_path / "d" / "spec.yaml")["num_samples"] == 30
    with pytest.raises(mixtera.NotFoundError):
        client.register_dataset("x", tmp_path / "d" / "missing.yaml")


class LicenseParser:
    """The original Mixtera's parser shape: an object with parse(line_number, payload)."""

    def __init__(self):
        self.calls = 0

    def parse(self, line_number, payload):
        self.calls += 1
        return {"lic": payload["meta"]["lic"], "line": line_number}


def test_parser_hook_function_and_object(tmp_path):
    write_jsonl(str(tmp_path / "a.jsonl"), RECORDS, blank_every=10)
    client = MixteraClient.from_directory(tmp_path / "mx")
    spec = {"format": "jsonl", "path": str(tmp_path / "a.jsonl"),
            "properties": {"lic": {"type": "enum", "values": ["MIT", "BSD"]}, "line": "int"}}
    parser = LicenseParser()
    assert client.register_dataset("p1", spec, parser=parser)["num_samples"] == 30
    assert parser.calls == 30
    seen = []

    def fn(line_number, payload):
        seen.append(line_number)
        return {"lic": payload["meta"]["lic"], "line": line_number}
    assert client.register_dataset("p2", spec, parser=fn)["num_samples"] == 30
    # Line numbers are physical: blank lines (after every 10 records) keep their index.
    assert seen[:12] == list(range(10)) + [11, 12]


def test_parser_hook_type_rules_and_exceptions(tmp_path):
    write_jsonl(str(tmp_path / "a.jsonl"), RECORDS[:4])
    client = MixteraClient.from_directory(tmp_path / "mx")
    spec = {"format": "jsonl", "path": str(tmp_path / "a.jsonl"), "properties": {"n": "int"}}
    with pytest.raises(mixtera.InvalidArgumentError, match=r"line 1: property 'n' \(int\): expected an integer, got a boolean"):
        client.register_dataset("b1", spec, parser=lambda i, p: {"n": True})
    with pytest.raises(mixtera.InvalidArgumentError, match="unknown property 'm'"):
        client.register_dataset("b2", spec, parser=lambda i, p: {"m": 1})
    with pytest.raises(mixtera.InvalidArgumentError, match="line 3: parser raised KeyError"):
        client.register_dataset("b3", spec, parser=lambda i, p: {"n": p["n"]} if i != 2 else {}["boom"])
    skip = dict(spec, on_error="skip")
    r = client.register_dataset("b4", skip, parser=lambda i, p: {"n": p["n"]} if i % 2 else {"n": 1.5})
    assert (r["num_samples"], r["num_skipped"]) == (2, 2)
    with pytest.raises(mixtera.InvalidArgumentError, match="jsonl datasets only"):
        client.register_dataset("b5", {"format": "parquet", "path": str(tmp_path / "a.jsonl")},
                                parser=lambda i, p: {})


def test_parser_returning_unencodable_text_is_a_bad_record(tmp_path):
    write_jsonl(str(tmp_path / "a.jsonl"), RECORDS[:3])
    client = MixteraClient.from_directory(tmp_path / "mx")
    spec = {"format": "jsonl", "path": str(tmp_path / "a.jsonl"), "on_error": "skip",
            "properties": {"lang": "string"}}
    r = client.register_dataset("lone", spec,
                                parser=lambda i, p: {"lang": "\ud800" if i == 1 else p["lang"]})
    assert (r["num_samples"], r["num_skipped"]) == (2, 1)
    assert "line 2" in r["skipped_examples"][0]


def test_numeric_names_in_spec_files(tmp_path):
    write_jsonl(str(tmp_path / "x.jsonl"), RECORDS[:2])
    (tmp_path / "spec.yaml").write_text("name: 2024\nformat: jsonl\npath: x.jsonl\n")
    client = MixteraClient.from_directory(tmp_path / "mx")
    assert client.register_dataset("2024", tmp_path / "spec.yaml")["num_samples"] == 2
    assert client.list_datasets() == ["2024"]


def test_registration_releases_the_gil(tmp_path):
    lines = [json.dumps({"text": "x" * 2000, "n": i}) for i in range(40000)]
    (tmp_path / "big.jsonl").write_text("\n".join(lines) + "\n")
    client = MixteraClient.from_directory(tmp_path / "mx")
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)
    t = threading.Thread(target=ticker)
    t.start()
    start = time.monotonic()
    client.register_dataset("big", {"format": "jsonl", "path": str(tmp_path / "big.jsonl"),
                                    "properties": {"n": "int"}})
    end = time.monotonic()
    done.set()
    t.join()
    # The other Python thread kept running while the native registration worked.
    during = [x for x in ticks if start < x < end]
    assert len(during) >= 3, (len(during), end - start)


def run_cli(mixtera_bin, *args, **kw):
    return subprocess.run([mixtera_bin, *args], capture_output=True, text=True, **kw)


def test_cli_register_datasets_remove_verify_json(tmp_path, mixtera_bin):
    write_jsonl(str(tmp_path / "d" / "a.jsonl"), RECORDS)
    with gzip.open(tmp_path / "d" / "b.jsonl.gz", "wt") as f:
        for r in RECORDS[:10]:
            f.write(json.dumps(r) + "\n")
    (tmp_path / "spec.yaml").write_text("name: cli\nformat: jsonl\npath: d\ntext: text\n"
                                        "properties: {lang: string, n: int}\n")
    mx = str(tmp_path / "mx")
    r = run_cli(mixtera_bin, "register", mx, str(tmp_path / "spec.yaml"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)  # stdout is only JSON
    assert out["num_samples"] == 40 and out["num_files"] == 2
    r = run_cli(mixtera_bin, "datasets", mx, "--json")
    assert r.returncode == 0, r.stderr
    [info] = json.loads(r.stdout)
    assert {k: info[k] for k in ("name", "format", "num_files", "num_samples", "num_skipped")} == \
        {"name": "cli", "format": "jsonl", "num_files": 2, "num_samples": 40, "num_skipped": 0}
    assert info["properties"][0]["name"] == "lang" and info["properties"][0]["type"] == "string"
    r = run_cli(mixtera_bin, "verify", mx, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["changes"] == []
    with open(tmp_path / "d" / "a.jsonl", "a") as f:
        f.write("\n")
    r = run_cli(mixtera_bin, "verify", mx, "cli", "--json")
    assert r.returncode == 1
    [change] = json.loads(r.stdout)["changes"]
    assert change["change"] == "size" and change["path"].endswith("a.jsonl")
    r = run_cli(mixtera_bin, "register", mx, str(tmp_path / "spec.yaml"))
    assert r.returncode != 0 and "already exists" in r.stderr and r.stdout == ""
    r = run_cli(mixtera_bin, "remove", mx, "cli", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == {"removed": "cli"}
    r = run_cli(mixtera_bin, "datasets", mx, "--json")
    assert json.loads(r.stdout) == []
    r = run_cli(mixtera_bin, "datasets", str(tmp_path / "nothing"))
    assert r.returncode != 0 and "not a Mixtera directory" in r.stderr
    r = run_cli(mixtera_bin, "frobnicate")
    assert r.returncode == 2


def test_cli_skip_reports_on_stderr_and_exits_zero(tmp_path, mixtera_bin):
    (tmp_path / "a.jsonl").write_text('{"n": 1}\n{"n": "x"}\n{"n": 3}\n')
    (tmp_path / "s.yaml").write_text("name: s\nformat: jsonl\npath: a.jsonl\non_error: skip\nproperties: {n: int}\n")
    r = run_cli(mixtera_bin, "register", str(tmp_path / "mx"), str(tmp_path / "s.yaml"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["num_skipped"] == 1
    assert "a.jsonl: line 2" in r.stderr


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to drop privileges for an unreadable-file check")
def test_unreadable_file_is_an_io_error(mixtera_bin):
    # Root reads any file, so run the CLI as 'nobody' against a file only root may read.
    import pathlib
    import tempfile
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="mixtera_unreadable_"))
    os.chmod(tmp_path, 0o777)
    (tmp_path / "secret.jsonl").write_text('{"n": 1}\n')
    os.chmod(tmp_path / "secret.jsonl", 0o600)
    (tmp_path / "s.yaml").write_text("name: s\nformat: jsonl\npath: secret.jsonl\n")
    os.chmod(tmp_path / "s.yaml", 0o644)
    mx = tmp_path / "mx"
    mx.mkdir()
    os.chmod(mx, 0o777)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", mixtera_bin,
                        "register", str(mx), str(tmp_path / "s.yaml")], capture_output=True, text=True)
    shutil.rmtree(tmp_path, ignore_errors=True)
    assert r.returncode != 0
    assert "secret.jsonl" in r.stderr and "IOError" in r.stderr, r.stderr


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_a_parser_interrupt_commits_nothing_and_propagates(tmp_path, exc):
    # Issue: hardening, 4: registration used to return a 0-sample dataset.
    write_jsonl(str(tmp_path / "d" / "a.jsonl"), [{"text": f"doc {i}", "n": i} for i in range(2000)])
    write_jsonl(str(tmp_path / "d" / "b.jsonl"), [{"text": f"doc {i}", "n": i} for i in range(2000)])
    client = MixteraClient.from_directory(tmp_path / "mx")
    spec = {"format": "jsonl", "path": str(tmp_path / "d" / "*.jsonl"), "properties": {"n": "int"}}

    def parser(line, payload):
        if payload["n"] == 1500:
            raise exc(3) if exc is SystemExit else exc()
        return {"n": payload["n"]}

    with pytest.raises(exc):
        client.register_dataset("x", spec, parser=parser, num_threads=2)
    assert client.list_datasets() == []
    assert client.register_dataset("x", spec)["num_samples"] == 4000  # not AlreadyExists


_CTRL_C_REGISTRATION = r"""
import json, sys, time
from mixtera import MixteraClient
client = MixteraClient.from_directory(sys.argv[1])
spec = {"format": "jsonl", "path": sys.argv[2], "properties": {"n": "int"}}
def slow(line, payload):
    if line == 10:
        print("started", flush=True)
    time.sleep(0.001)
    return {"n": payload["n"]}
try:
    client.register_dataset("x", spec, parser=slow)
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    print("interrupted", json.dumps([d["name"] for d in client.list_datasets()]), flush=True)
    print("retry", client.register_dataset("x", spec)["num_samples"], flush=True)
"""


def test_ctrl_c_during_registration_commits_nothing(tmp_path):
    # Issue: hardening, 7: the registration used to commit, then raise; a retry got AlreadyExists.
    import signal
    write_jsonl(str(tmp_path / "a.jsonl"), [{"text": f"doc {i}", "n": i} for i in range(20000)])
    env = dict(os.environ)
    p = subprocess.Popen([mixtera_python(), "-c", _CTRL_C_REGISTRATION, str(tmp_path / "mx"), str(tmp_path / "a.jsonl")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().strip() == "started"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "interrupted []", out
    assert lines[1] == "retry 20000", out


def mixtera_python():
    import sys
    return sys.executable


def test_a_glob_over_the_folder_holding_the_mixtera_directory_skips_it(tmp_path, mixtera_bin):
    # Issue: hardening, 11: `path: '**'` registered the store and offsets as data.
    write_jsonl(str(tmp_path / "data" / "a.jsonl"), [{"text": f"doc {i}"} for i in range(10)])
    client = MixteraClient.from_directory(tmp_path / "data" / "mx")  # inside the data folder
    first = client.register_dataset("a", {"format": "jsonl", "path": str(tmp_path / "data" / "*.jsonl")})
    assert first["num_files"] == 1
    report = client.register_dataset("all", {"format": "jsonl", "path": str(tmp_path / "data" / "**"),
                                             "on_error": "skip"})
    assert report["num_files"] == 1 and report["num_samples"] == 10 and report["num_skipped"] == 0
    assert any("inside the Mixtera directory" in w for w in report["warnings"]), report["warnings"]
    with pytest.raises(mixtera.InvalidArgumentError, match="match only files inside the Mixtera directory"):
        client.register_dataset("store", {"format": "jsonl", "path": str(tmp_path / "data" / "mx" / "**")})
    client.close()
    # The CLI registers the same way.
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: cli\nformat: jsonl\npath: '{tmp_path / 'data'}/**'\non_error: skip\n")
    r = run_cli(mixtera_bin, "register", str(tmp_path / "data" / "mx"), str(spec), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["num_files"] == 1


def test_a_device_or_fifo_as_the_spec_is_an_error_not_a_hang(tmp_path, mixtera_bin):
    # Issue: hardening, 12: `mixtera register DIR /dev/zero` read forever.
    os.mkfifo(tmp_path / "fifo")
    for spec in ("/dev/zero", str(tmp_path / "fifo")):
        r = subprocess.run([mixtera_bin, "register", str(tmp_path / "mx"), spec], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode != 0 and "is not a regular file" in r.stderr, r.stderr
        client = MixteraClient.from_directory(tmp_path / "mx")
        with pytest.raises(mixtera.InvalidArgumentError, match="is not a regular file"):
            client.register_dataset(None, spec)
        client.close()
    mix = subprocess.run([mixtera_bin, "chunks", str(tmp_path / "mx"), "--mixture", "/dev/zero"], capture_output=True,
                         text=True, timeout=60)
    assert mix.returncode != 0 and "mixture file '/dev/zero' is not a regular file" in mix.stderr, mix.stderr
