"""Native tokenizers (DESIGN.md §3.7): HF tokenizer.json (BPE), tiktoken rank files and
SentencePiece models, with ids identical to the reference implementations.

    tok = Tokenizer.from_file("tokenizer.json")
    ids = tok.encode("Hello world")          # no BOS/EOS added
    tok.decode(ids) == "Hello world"
    batches = tok.encode_batch(texts)        # on C++ threads, GIL released
"""

import os
import re

from . import _mixtera
from .errors import NotFoundError

_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class Tokenizer:
    """A loaded tokenizer; immutable and safe to share between threads."""

    __slots__ = ("_native", "path")

    def __init__(self, native, path):
        self._native = native
        self.path = path

    @classmethod
    def from_file(cls, path, encoding=None):
        """Loads a local tokenizer file.

        `path`: a `tokenizer.json` (HF, BPE models), a SentencePiece `.model`, or a tiktoken rank
        file (recognised by its sha256, or named by `encoding`: r50k_base, p50k_base,
        cl100k_base, o200k_base). Raises NotFoundError for a missing file (Mixtera never
        downloads: a hub name such as "gpt2" is not a path), InvalidArgumentError for a
        malformed or unknown file, UnimplementedError naming an unsupported component.
        """
        path = os.fspath(path)
        if not os.path.exists(path) and (_HUB_NAME.match(path) or "/" not in path):
            raise NotFoundError(
                f"{path}: no such tokenizer file; Mixtera does not download tokenizers from a "
                "model hub: give the path of a local tokenizer.json, .model or tiktoken rank file")
        return cls(_mixtera.Tokenizer.load(path, encoding or ""), path)

    def encode(self, text, allow_special=False):
        """The ids of `text` (str, or bytes where invalid UTF-8 becomes U+FFFD); adds no
        BOS/EOS. With `allow_special`, special tokens written in the text become their ids
        (tokenizer.json files always split on their added tokens, as HF does)."""
        return self._native.encode(text, allow_special)

    def encode_batch(self, texts, num_threads=0):
        """`encode` of every text, in order, on `num_threads` C++ threads (0 = all cores)."""
        return self._native.encode_batch(texts, num_threads)

    def decode(self, ids):
        """The text of `ids` (special tokens as their text; invalid UTF-8 as U+FFFD)."""
        return self._native.decode(list(ids))

    def token_to_id(self, token):
        """The id of `token` as written in the vocabulary, or None."""
        return self._native.token_to_id(token)

    @property
    def vocab_size(self):
        """The largest id + 1."""
        return self._native.vocab_size

    @property
    def bos_id(self):
        return self._native.bos_id

    @property
    def eos_id(self):
        return self._native.eos_id

    @property
    def fingerprint(self):
        """Equal fingerprints mean equal ids for every text (keys stored token counts)."""
        return self._native.fingerprint

    @property
    def special_tokens(self):
        """{text: id} of the special tokens that allow_special recognises."""
        return self._native.special_tokens

    def __repr__(self):
        return f"Tokenizer({self.path!r}, vocab_size={self.vocab_size})"
