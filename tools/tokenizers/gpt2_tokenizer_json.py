#!/usr/bin/python3
"""Builds a Hugging Face tokenizer.json for GPT-2 from OpenAI's original files.

    gpt2_tokenizer_json.py ENCODER_JSON VOCAB_BPE OUT_JSON

ENCODER_JSON maps the 50,257 byte-level token strings to ids; VOCAB_BPE lists the 50,000
merges in rank order after a "#version" header line. The output has the shape of the
tokenizer.json Hugging Face publishes for "gpt2": a BPE model without unk token, ByteLevel
pre-tokenizer / post-processor / decoder and "<|endoftext|>" (50256) as the one added special
token. Run by tools/setup.sh; deterministic (same input bytes → same output bytes).
"""
import json
import os
import sys

EOT = "<|endoftext|>"


def read_merges(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if not lines or not lines[0].startswith("#version"):
        raise SystemExit(f"{path}: expected a '#version' header line")
    merges = []
    for number, line in enumerate(lines[1:], start=2):
        if line == "":
            continue
        parts = line.split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise SystemExit(f"{path}:{number}: expected two symbols separated by one space")
        merges.append(f"{parts[0]} {parts[1]}")
    return merges


def read_vocab(path):
    with open(path, encoding="utf-8") as f:
        encoder = json.load(f)
    ids = sorted(encoder.values())
    if ids != list(range(len(ids))):
        raise SystemExit(f"{path}: ids are not 0..{len(ids) - 1} without gaps")
    # Keep id order, as Hugging Face's files do.
    return dict(sorted(encoder.items(), key=lambda kv: kv[1]))


def build(encoder_json, vocab_bpe):
    vocab = read_vocab(encoder_json)
    merges = read_merges(vocab_bpe)
    if vocab.get(EOT) != 50256:
        raise SystemExit(f"{encoder_json}: expected {EOT!r} = 50256")
    if len(vocab) != 50257 or len(merges) != 50000:
        raise SystemExit(f"unexpected sizes: {len(vocab)} tokens, {len(merges)} merges "
                         "(GPT-2 has 50257 and 50000)")

    def byte_level(add_prefix_space, trim_offsets):
        return {"type": "ByteLevel", "add_prefix_space": add_prefix_space,
                "trim_offsets": trim_offsets, "use_regex": True}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{
            "id": 50256, "content": EOT, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": True, "special": True,
        }],
        "normalizer": None,
        "pre_tokenizer": byte_level(False, True),
        "post_processor": byte_level(True, False),
        "decoder": byte_level(True, True),
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": vocab,
            "merges": merges,
        },
    }


def main(argv):
    if len(argv) != 4:
        raise SystemExit("usage: gpt2_tokenizer_json.py ENCODER_JSON VOCAB_BPE OUT_JSON")
    tokenizer = build(argv[1], argv[2])
    text = json.dumps(tokenizer, ensure_ascii=False, indent=2) + "\n"
    tmp = argv[3] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, argv[3])


if __name__ == "__main__":
    main(sys.argv)
