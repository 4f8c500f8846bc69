"""Token-for-token exactness of Mixtera's native tokenizers against reference implementations.

For each pair (tokenizer file from third_party/tokenizers, oracle) every document of the
≥ 20 MB corpus (corpus/tokenize/exactness.jsonl, tools/tokenizers/make_corpus.py) is encoded by
both — Mixtera with Tokenizer.from_file(path).encode_batch(texts) (allow_special False) — and
compared document by document. decode() is checked on the same documents: decode(encode(text))
must give the text back, or exactly what the oracle's own decode gives for the same ids (e.g.
Mistral's tokenizer.json adds a space after every special token it splits off).

Oracles: HF tokenizers (native addon) for tokenizer.json files, tiktoken (WASM build of
OpenAI's Rust code) and gpt-tokenizer for the rank files, Debian's python3-sentencepiece for
the .model file. gpt-tokenizer (JavaScript regexes) differs from tiktoken (Rust regexes) on
U+0085 and U+FEFF, which JavaScript's \\s does not / does match, and on U+017F (long s),
which Rust's case-insensitive contractions (?i:'s) match and gpt-tokenizer's '[sS] does not
(visible with o200k, where a contraction attaches to the word before it). On the documents
where the two oracles disagree tiktoken is the reference, and the disagreement must be
explained by one of those characters. gpt-tokenizer's decode also drops a document's leading
U+FEFF (JavaScript's TextDecoder takes it for a byte-order mark); tiktoken is the reference
for documents that start with one (the corpus's first document always does).

The corpus is built from pinned Debian and npm packages and from this machine's
/usr/include and /usr/lib/python3.11, so it differs between machines: its sha256 is printed
with every result and failure.

Also: encode(text, allow_special=True) for the rank files against tiktoken's
encode(text, allowed_special="all") on the documents with special-token literals (not against
gpt-tokenizer: with allowedSpecial "all" it misses every special token after the first one in a
text, and its o200k_base / cl100k_base define extra specials, e.g. <|endofprompt|> = 200006
instead of OpenAI's 200018), and gpt-tokenizer's golden TestPlans.txt cases.

Missing files or oracles fail the test with a hint to run `make setup`; nothing is skipped.
Run: cd build && PYTHONPATH=python /usr/bin/python3 -m pytest -q ../python/tests_tokenize
"""
import collections
import json
import time

import numpy as np
import pytest

from tokenizer_oracles import CORPUS, TOK_DIR, make_job, need_file, report, sha256_file

BATCH = 256          # documents per encode_batch call
MAX_SHOWN = 5        # mismatches described in a failure message

ENCODINGS = ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"]
# Characters on which gpt-tokenizer's JavaScript regexes differ from tiktoken's Rust ones:
# \s (JavaScript: no U+0085, but U+FEFF; Rust: Unicode White_Space) and the case-insensitive
# contractions ((?i:'s) also matches "'ſ" in Rust; gpt-tokenizer spells out [sS]).
JS_DIVERGENCE = ("\u0085", "\ufeff", "\u017f")
SPECIAL_LITERALS = ("<|", "<s>", "</s>", "<unk>")


def _cases():
    # Order = the order the background thread runs the oracles in: a fast one first, the slow
    # HF runs spread out so that Mixtera's side overlaps them.
    cases = []
    for enc in ENCODINGS:
        cases.append((f"{enc}.tiktoken", "tiktoken", enc))
        cases.append((f"{enc}.tiktoken", "gpt-tokenizer", enc))
        cases.append({"r50k_base": ("gpt2.json", "hf", "gpt2.json"),
                      "p50k_base": ("cl100k_hf.json", "hf", "cl100k_hf.json"),
                      "cl100k_base": ("llama2.model", "spm", "llama2.model"),
                      "o200k_base": ("mistral-7b.json", "hf", "mistral-7b.json")}[enc])
    return [pytest.param(c, id=f"{c[0]}-vs-{c[1]}") for c in cases]


CASES = _cases()


def job_name(oracle, arg, special=False):
    return f"{oracle}-{arg}" + ("-special" if special else "")


def special_subset_path(corpus, runner):
    """A JSONL with the corpus documents that contain special-token-like literals."""
    path = runner.cache_dir / f"special-subset-{corpus.sha256[:16]}.jsonl"
    if not path.is_file():
        runner.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for text, kind in zip(corpus.texts, corpus.kinds):
                if any(s in text for s in SPECIAL_LITERALS):
                    f.write(json.dumps({"text": text, "kind": kind}, ensure_ascii=False) + "\n")
        tmp.replace(path)
    return path


@pytest.fixture(scope="session")
def oracles(request, corpus, oracle_runner):
    """Registers the oracle runs of the selected tests, in test order, and starts them."""
    runner = oracle_runner
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "case" in params:
            _, oracle, arg = params["case"]
            if oracle == "gpt-tokenizer":
                runner.add(make_job("tiktoken", arg, CORPUS, corpus.sha256))
            runner.add(make_job(oracle, arg, CORPUS, corpus.sha256))
        elif "special_encoding" in params:
            enc = params["special_encoding"]
            subset = special_subset_path(corpus, runner)
            runner.add(make_job("tiktoken", enc, subset, sha256_file(subset), allow_special=True))
    runner.start()
    return runner


# ---------------------------------------------------------------------------------------------
# Helpers

def first_difference(a, b):
    n = min(len(a), len(b))
    neq = np.nonzero(np.asarray(a[:n]) != np.asarray(b[:n]))[0]
    return int(neq[0]) if len(neq) else n


def token_strings(tok, ids):
    out = []
    for t in ids:
        try:
            out.append(tok.decode([int(t)]))
        except Exception as e:  # noqa: BLE001 - only for a diagnostic
            out.append(f"<{type(e).__name__}>")
    return out


def describe_mismatch(i, kind, text, got, want, tok):
    k = first_difference(got, want)
    try:
        offset = len(tok.decode([int(x) for x in want[:k]]))
    except Exception:  # noqa: BLE001
        offset = 0
    lo, hi = max(0, k - 4), k + 8
    g, w = [int(x) for x in got[lo:hi]], [int(x) for x in want[lo:hi]]
    return (f"doc {i} ({kind}, {len(text)} chars, {len(text.encode('utf-8'))} bytes): first "
            f"difference at token {k} (mixtera {len(got)} tokens, oracle {len(want)}), near "
            f"char {offset}: {text[max(0, offset - 40):offset + 40]!r}\n"
            f"    mixtera[{lo}:{hi}] = {g} {token_strings(tok, g)!r}\n"
            f"    oracle [{lo}:{hi}] = {w} {token_strings(tok, w)!r}")


def describe_decode(i, kind, text, got, want):
    k = 0
    n = min(len(got), len(want))
    while k < n and got[k] == want[k]:
        k += 1
    return (f"doc {i} ({kind}): decode differs at char {k}: mixtera "
            f"{got[max(0, k - 30):k + 30]!r} vs expected {want[max(0, k - 30):k + 30]!r}")


# ---------------------------------------------------------------------------------------------
# Tests

def load_test_plans():
    """gpt-tokenizer's data/TestPlans.txt: blocks of 'EncodingName: E', 'Sample: S',
    'Encoded: [ids]' separated by blank lines (parsed as gpt-tokenizer's own test does)."""
    path = need_file(TOK_DIR / "TestPlans.txt", "gpt-tokenizer's TestPlans.txt")
    plans = collections.defaultdict(list)
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = block.split("\n")
        if len(lines) < 3 or not all(lines[:3]):
            continue
        name = lines[0].split(": ", 1)[1]
        sample = ": ".join(lines[1].split(": ")[1:])
        ids = json.loads(lines[2].split(": ", 1)[1])
        plans[name].append((sample, ids))
    return plans


@pytest.mark.parametrize("plan_encoding", ENCODINGS + ["p50k_edit"])
def test_gpt_tokenizer_test_plans(plan_encoding, mixtera_tokenizer_cls, oracles):
    """The golden cases of gpt-tokenizer's TestPlans.txt. p50k_edit has p50k_base's ranks and
    pattern (it differs only in special tokens, which no sample contains), so its samples are
    checked with p50k_base.tiktoken. (Runs first: `oracles` starts the background oracle runs.)"""
    plans = load_test_plans()[plan_encoding]
    assert plans, f"no {plan_encoding} cases in TestPlans.txt"
    rank_file = "p50k_base" if plan_encoding == "p50k_edit" else plan_encoding
    tok = mixtera_tokenizer_cls.from_file(str(need_file(TOK_DIR / f"{rank_file}.tiktoken", "the rank file")))
    bad = []
    for sample, expected in plans:
        got = list(tok.encode(sample))
        if got != expected:
            bad.append(f"{sample!r}: mixtera {got}, expected {expected}")
        elif tok.decode(expected) != sample:
            bad.append(f"{sample!r}: decode gives {tok.decode(expected)!r}")
    report(f"TestPlans {plan_encoding}: {len(plans)} cases, {len(bad)} failing")
    if bad:
        pytest.fail(f"{len(bad)} of {len(plans)} {plan_encoding} cases fail:\n  " + "\n  ".join(bad[:20]),
                    pytrace=False)


@pytest.mark.parametrize("case", CASES)
def test_encode_decode_match_oracle(case, corpus, oracles, mixtera_tokenizer_cls):
    tok_file, oracle, arg = case
    path = need_file(TOK_DIR / tok_file, "the tokenizer file")
    tok = mixtera_tokenizer_cls.from_file(str(path))
    n = len(corpus)
    job = oracles.get(job_name(oracle, arg), n)
    want = job.result

    # Where gpt-tokenizer and tiktoken disagree, tiktoken is the reference.
    reference = {}
    divergence_note = ""
    if oracle == "gpt-tokenizer":
        tk = oracles.get(job_name("tiktoken", arg), n).result
        disagree = [i for i in range(n) if not np.array_equal(want.ids(i), tk.ids(i))]
        unexplained = [i for i in disagree
                       if not any(c in corpus.texts[i] for c in JS_DIVERGENCE)]
        if unexplained:
            pytest.fail(f"gpt-tokenizer and tiktoken disagree on {len(unexplained)} documents "
                        f"without U+0085/U+FEFF/U+017F (first: {unexplained[:10]}, kinds "
                        f"{sorted({corpus.kinds[i] for i in unexplained})}); the oracles need a "
                        "look before Mixtera can be judged", pytrace=False)
        reference = {i: tk for i in disagree}
        # gpt-tokenizer decodes through JavaScript's TextDecoder, which drops a leading U+FEFF
        # (a byte-order mark to it); ours keeps it, as tiktoken does: tiktoken is the
        # reference for documents that start with one.
        reference.update({i: tk for i in range(n) if corpus.texts[i].startswith("\ufeff")})
        if disagree:
            kinds = collections.Counter(corpus.kinds[i] for i in disagree)
            divergence_note = (f"; gpt-tokenizer != tiktoken on {len(disagree)} docs "
                               f"(U+0085/U+FEFF/U+017F; tiktoken used there: {dict(kinds)})")

    mismatches, decode_errors = [], []
    n_mismatch = n_decode_bad = 0
    tokens = 0
    non_identity = collections.Counter()
    encode_seconds = 0.0
    decode_seconds = 0.0
    for start in range(0, n, BATCH):
        texts = corpus.texts[start:start + BATCH]
        t0 = time.perf_counter()
        batch = tok.encode_batch(texts)
        encode_seconds += time.perf_counter() - t0
        assert len(batch) == len(texts), f"encode_batch returned {len(batch)} lists for {len(texts)} texts"
        for j, ids in enumerate(batch):
            i = start + j
            text = corpus.texts[i]
            ref = reference.get(i, want)
            expected = ref.ids(i)
            got = np.asarray(ids, dtype=np.int64)
            tokens += len(got)
            same = np.array_equal(got, expected)
            if not same:
                n_mismatch += 1
                if len(mismatches) < MAX_SHOWN:
                    mismatches.append(describe_mismatch(i, corpus.kinds[i], text, got, expected, tok))
            # decode: of our ids when they are right, else of the oracle's ids
            t1 = time.perf_counter()
            back = tok.decode(list(ids) if same else [int(x) for x in expected])
            decode_seconds += time.perf_counter() - t1
            oracle_back = ref.decoded(i, text)
            if back != oracle_back:
                n_decode_bad += 1
                if len(decode_errors) < MAX_SHOWN:
                    decode_errors.append(describe_decode(i, corpus.kinds[i], text, back, oracle_back))
            elif same and back != text:
                non_identity[corpus.kinds[i]] += 1

    mb = corpus.text_bytes / 1e6
    oracle_time = (f"{job.seconds:.1f} s" if job.seconds is not None else "?") + (" cached" if job.cached else "")
    rt_note = (f"; decode(encode(text)) != text on {sum(non_identity.values())} docs, all equal to "
               f"the oracle's own decode ({dict(non_identity)})" if non_identity else
               "; decode(encode(text)) == text on every doc")
    report(f"{tok_file} vs {oracle}: {n} docs, {mb:.1f} MB, {tokens} tokens; "
           f"{n_mismatch} encode / {n_decode_bad} decode mismatches; oracle {oracle_time}; "
           f"mixtera encode {encode_seconds:.1f} s ({mb / max(encode_seconds, 1e-9):.1f} MB/s), "
           f"decode {decode_seconds:.1f} s{rt_note}{divergence_note}")

    problems = []
    if n_mismatch:
        problems.append(f"{n_mismatch} of {n} documents encode differently from {oracle} "
                        f"(first {len(mismatches)}):\n  " + "\n  ".join(mismatches))
    if n_decode_bad:
        problems.append(f"{n_decode_bad} documents decode differently from {oracle}'s decode "
                        f"(first {len(decode_errors)}):\n  " + "\n  ".join(decode_errors))
    if problems:
        pytest.fail(f"{tok_file} vs {oracle} on {CORPUS} (sha256 {corpus.sha256}):\n" + "\n".join(problems),
                    pytrace=False)


@pytest.mark.parametrize("special_encoding", ENCODINGS)
def test_allow_special_matches_tiktoken(special_encoding, corpus, oracles, mixtera_tokenizer_cls):
    """encode(text, allow_special=True) == tiktoken's encode(text, allowed_special="all") on the
    corpus documents that contain special-token-like literals."""
    enc = special_encoding
    tok = mixtera_tokenizer_cls.from_file(str(need_file(TOK_DIR / f"{enc}.tiktoken", "the rank file")))
    idx = [i for i, t in enumerate(corpus.texts) if any(s in t for s in SPECIAL_LITERALS)]
    job = oracles.get(job_name("tiktoken", enc, special=True), len(idx))
    want = job.result
    mismatches, n_bad, tokens = [], 0, 0
    for j, i in enumerate(idx):
        text = corpus.texts[i]
        got = np.asarray(tok.encode(text, allow_special=True), dtype=np.int64)
        tokens += len(got)
        expected = want.ids(j)
        if not np.array_equal(got, expected):
            n_bad += 1
            if len(mismatches) < MAX_SHOWN:
                mismatches.append(describe_mismatch(i, corpus.kinds[i], text, got, expected, tok))
        elif tok.decode(list(got)) != want.decoded(j, text):
            n_bad += 1
            if len(mismatches) < MAX_SHOWN:
                mismatches.append(describe_decode(i, corpus.kinds[i], text, tok.decode(list(got)),
                                                  want.decoded(j, text)))
    report(f"{enc}.tiktoken allow_special=True vs tiktoken encode(text, 'all'): {len(idx)} docs, "
           f"{tokens} tokens, {n_bad} mismatches")
    if n_bad:
        pytest.fail(f"{n_bad} of {len(idx)} documents differ (first {len(mismatches)}):\n  "
                    + "\n  ".join(mismatches), pytrace=False)
