"""Job files corrupted on disk (docs/reliability.md): streaming a job whose index.bin was
changed is a CorruptionError naming the file — never a crash or different samples."""

import json
import os
import random

import pytest

from mixtera import (CorruptionError, InferringMixture, MixteraClient, Query, QueryExecutionArgs,
                     ResultStreamingArgs)


@pytest.fixture
def job(tmp_path):
    with open(tmp_path / "a.jsonl", "w", encoding="utf-8") as f:
        for i in range(3000):
            f.write(json.dumps({"text": f"doc {i}", "lang": ["en", "de", "fr"][(i * i) % 3]}) + "\n")
    client = MixteraClient.from_directory(tmp_path / "mx")
    client.register_dataset("d", {"format": "jsonl", "path": str(tmp_path / "a.jsonl"), "text": "text",
                                  "properties": {"lang": "string"}})
    client.execute_query(Query.for_job("j").select(None),
                         QueryExecutionArgs(mixture=InferringMixture(64, strict=False, group_by=["lang"])))
    client.close()
    return tmp_path / "mx"


def stream_all(directory):
    client = MixteraClient.from_directory(directory)
    try:
        return list(client.stream_results(ResultStreamingArgs("j")))
    finally:
        client.close()


def test_a_flipped_bit_in_index_bin_is_a_corruption_error(job):
    before = stream_all(job)
    assert len(before) == 3000
    path = job / "jobs" / "j" / "index.bin"
    data = bytearray(path.read_bytes())
    rng = random.Random(3)
    for _ in range(20):
        mutated = bytearray(data)
        at = rng.randrange(len(mutated))
        mutated[at] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(mutated))
        with pytest.raises(CorruptionError, match="index.bin"):
            stream_all(job)
    path.write_bytes(bytes(data))
    assert stream_all(job) == before
