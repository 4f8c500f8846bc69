#!/usr/bin/python3
"""SentencePiece reference encoder for Mixtera's tokenizer exactness test.

    oracle_spm.py MODEL --corpus FILE --out FILE [--roundtrip FILE] [--threads N]

Encodes every document's "text" of a corpus JSONL with Debian's `sentencepiece` module
(EncodeAsIds: out_type=int, no BOS/EOS; SentencePiece treats "<s>" etc. in text as plain text)
and writes, per document in corpus order, a little-endian uint32 count and that many int32 ids
(the format of oracle_encode.js). --roundtrip: one JSON line {"i": DOC, "decoded": STRING} for
every document whose DecodeIds(EncodeAsIds(text)) is not the text. Prints docs, MB, tokens and
seconds (encoding only) to stderr. Run with /usr/bin/python3.
"""
import argparse
import json
import os
import struct
import sys
import time

try:
    import sentencepiece
except ImportError:
    sys.exit("oracle_spm: the python3-sentencepiece Debian package is missing: run `make setup`")


def read_corpus(path):
    texts = []
    with open(path, "rb") as f:
        for number, line in enumerate(f.read().split(b"\n"), start=1):
            if line:
                try:
                    texts.append(json.loads(line)["text"])
                except (ValueError, KeyError) as e:
                    sys.exit(f"oracle_spm: {path}:{number}: {e}")
    return texts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--roundtrip")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads of SentencePiece's batch encoder (default 1)")
    args = ap.parse_args()

    sp = sentencepiece.SentencePieceProcessor()
    if not sp.Load(args.model):
        sys.exit(f"oracle_spm: cannot load {args.model}")
    texts = read_corpus(args.corpus)

    t0 = time.perf_counter()
    ids = sp.Encode(texts, out_type=int, add_bos=False, add_eos=False, num_threads=args.threads)
    seconds = time.perf_counter() - t0

    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        for row in ids:
            f.write(struct.pack(f"<I{len(row)}i", len(row), *row))
    os.replace(tmp, args.out)

    note = ""
    if args.roundtrip:
        t1 = time.perf_counter()
        decoded = sp.Decode(ids)
        rt_seconds = time.perf_counter() - t1
        differ = 0
        with open(args.roundtrip, "w", encoding="utf-8") as f:
            for i, (text, back) in enumerate(zip(texts, decoded)):
                if back != text:
                    differ += 1
                    f.write(json.dumps({"i": i, "decoded": back}, ensure_ascii=False) + "\n")
        note = f"; decode {rt_seconds:.2f} s, {differ} docs do not round-trip"

    size = sum(len(t.encode("utf-8")) for t in texts)
    tokens = sum(len(r) for r in ids)
    print(f"oracle_spm {os.path.basename(args.model)}: {len(texts)} docs, {size / 1e6:.2f} MB, "
          f"{tokens} tokens, {seconds:.2f} s ({size / 1e6 / seconds:.2f} MB/s){note}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
