"""Helpers shared by the tests that build corpora from this machine's real files."""


def paragraphs(path):
    """The non-blank paragraphs (split at blank lines) of a UTF-8 text file; [] when the
    file cannot be read as UTF-8."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except (UnicodeDecodeError, OSError):
        return []
    return [p for p in text.split("\n\n") if p.strip()]
