#!/usr/bin/python3
"""Builds the tokenizer exactness / benchmark corpus: real, varied text as JSONL.

    make_corpus.py --out FILE [--mb N] [--src DIR]

One JSON object per line, {"text": ..., "kind": ...}, documents from a few bytes to ~200 KB:

  code:c, code:python    /usr/include and /usr/lib/python3.11 of this machine
  man:LANG               Debian's translated man pages (de fr ja ru pl), roff stripped
  help:LANG              GNOME user help in 42 languages (Greek, Hebrew, Persian, Hindi,
                         Korean, Tamil, ...), Mallard XML stripped
  doc:zh-cn              the Debian Reference in Simplified Chinese (plain-text edition)
  prose:sotu, prose:moby US State of the Union addresses; Moby-Dick chapters
  cldr:LOCALE            CLDR emoji names and keywords in ~160 locales (Thai, Arabic, ...)
  iso:LANG               Debian iso-codes translations: country, region, language, currency
                         and script names in ~150 languages (Hebrew, Hindi, Amharic, ...)
  emoji:*                Unicode's emoji-test.txt, runs of emoji (ZWJ, skin tones, flags,
                         keycaps, tag sequences), emoji inside prose
  snippet:*, mixed       single lines / paragraphs of the above; concatenations up to 200 KB
  hard:*                 cases derived from the real text: whitespace runs, tabs, CRLF and lone
                         CR, very long words / digit / punctuation runs, numbers, NFD / NFKD and
                         stacked combining marks, Unicode spaces, contractions, special-token
                         literals in text, leading / trailing whitespace, empty documents

--src is the folder tools/setup.sh unpacks the downloaded Debian / npm packages into
(corpus/tokenize/src). All text is valid UTF-8; characters unassigned in Unicode 14 (the
tables of PCRE2 and of this Python) are dropped outside the emoji blocks, where every newer
character is a symbol to all regex engines alike. The output is deterministic: the same bytes
on every run with the same sources and --mb. A summary goes to stderr.
"""
import argparse
import gzip
import html
import json
import os
import random
import re
import sys
import unicodedata

MAX_DOC = 200_000          # bytes of UTF-8
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Share of the total size per source (a source that runs dry passes its rest on; the code
# sources come last and are effectively unlimited).
SHARES = [
    ("help", 0.17), ("man", 0.12), ("doc:zh-cn", 0.04), ("prose:sotu", 0.07),
    ("prose:moby", 0.04), ("cldr", 0.05), ("iso", 0.03), ("emoji", 0.02),
    ("code:python", 0.13), ("code:c", 0.12),
]
DERIVED_SHARES = [("snippet", 0.04), ("mixed", 0.05), ("hard", 0.12)]

SPECIAL_LITERALS = [
    "<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|endofprompt|>",
    "<|im_start|>", "<|im_end|>", "<|im_sep|>", "<s>", "</s>", "<unk>", "<pad>",
]
UNICODE_SPACES = [
    "\u00a0", "\u202f", "\u2009", "\u2002", "\u2003", "\u3000", "\u2028", "\u2029",
    "\u0085", "\ufeff", "\u200b", "\u200c", "\u200d", "\u00ad", "\u1680", "\u205f", "\x0b",
    "\x0c", "\u180e", "\u2007", "\x1c", "\x1d", "\x1e", "\x1f",
]


def utf8_len(text):
    return len(text.encode("utf-8"))


def cap(text, limit=MAX_DOC):
    """Cuts text to at most `limit` UTF-8 bytes, at a line end when there is one."""
    if utf8_len(text) <= limit:
        return text
    cut = text.encode("utf-8")[:limit].decode("utf-8", "ignore")
    nl = cut.rfind("\n")
    return cut[: nl + 1] if nl > limit // 4 else cut


def is_emoji_block(cp):
    return 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0xE0000 <= cp <= 0xE007F


class Cleaner:
    """Drops characters Unicode 14 does not know (outside the emoji blocks)."""

    def __init__(self):
        self.dropped = 0

    def __call__(self, text):
        if text.isascii():
            return text
        out = []
        for ch in text:
            if unicodedata.category(ch) == "Cn" and not is_emoji_block(ord(ch)):
                self.dropped += 1
                continue
            out.append(ch)
        return "".join(out)


def read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        if path.endswith(".gz"):
            data = gzip.decompress(data)
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None


def walk_files(top, accept):
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if accept(path) and os.path.isfile(path) and not os.path.islink(path):
                found.append(path)
    return found


# ---------------------------------------------------------------------------------------------
# Markup strippers (crude on purpose: the point is real text, not faithful rendering)

ROFF_ESCAPES = {
    "em": "\u2014", "en": "\u2013", "aq": "'", "dq": '"', "lq": "\u201c", "rq": "\u201d",
    "oq": "\u2018", "cq": "\u2019", "bu": "\u2022", "co": "\u00a9", "rg": "\u00ae",
    "tm": "\u2122", "de": "\u00b0", "mu": "\u00d7", "di": "\u00f7", "+-": "\u00b1",
    "<=": "\u2264", ">=": "\u2265", "!=": "\u2260", "->": "\u2192", "<-": "\u2190",
    "ha": "^", "ti": "~", "ga": "`", "at": "@", "sh": "#", "rs": "\\", "ba": "|", "hy": "-",
    "Fo": "\u00ab", "Fc": "\u00bb", "fo": "\u2039", "fc": "\u203a", "ua": "\u2191",
    "da": "\u2193", "ss": "\u00df", "ae": "\u00e6", "pc": "\u00b7", "sc": "\u00a7",
}
KEEP_MACROS = {"SH", "SS", "TP", "IP", "B", "I", "BI", "BR", "IB", "IR", "RB", "RI", "SM",
               "SB", "TH", "Nm", "Nd", "Sh", "Ss", "It", "Pp", "Ar", "Fl", "Op", "Xr", "Dt",
               "UR", "MT", "TQ", "OP"}


def roff_inline(line):
    line = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", line)
    line = re.sub(r"\\\((..)", lambda m: ROFF_ESCAPES.get(m.group(1), ""), line)
    line = re.sub(r"\\\[([^\]]*)\]", lambda m: ROFF_ESCAPES.get(m.group(1), ""), line)
    line = re.sub(r"\\\*(\(..|\[[^\]]*\]|.)", "", line)
    line = re.sub(r"\\[sn]\(?[-+]?\d*", "", line)
    line = re.sub(r"\\[hvwl]'[^']*'", "", line)
    line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\\\", "\\")
    line = line.replace("\\ ", " ").replace("\\~", " ").replace("\\0", " ")
    line = re.sub(r"\\[&,/|^%:c]", "", line)
    return line


def strip_roff(text):
    out = []
    for line in text.split("\n"):
        if line.startswith(('.\\"', "'\\\"", '\\"')):
            continue
        if line.startswith((".", "'")):
            m = re.match(r"[.']\s*(\S+)\s*(.*)", line)
            if not m:
                continue
            macro, args = m.group(1), m.group(2)
            if macro in KEEP_MACROS and args:
                args = args.replace('"', "") if macro != "TH" else args
                out.append(roff_inline(args))
            elif macro in ("PP", "LP", "P", "sp", "Pp"):
                out.append("")
            continue
        out.append(roff_inline(line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n") + "\n"


def strip_xml(text):
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<(code|screen|cmd|input|output|key)\b[^>]*>", "", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text)
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


# ---------------------------------------------------------------------------------------------
# Sources: generators of (kind, text) in a seeded, deterministic order


def src_code(rng, top, kind, accept):
    files = walk_files(top, accept)
    rng.shuffle(files)
    for path in files:
        text = read_text(path)
        if text and text.strip():
            yield kind, cap(text)


def src_c(rng, args):
    exts = (".h", ".hpp", ".hh", ".hxx", ".c", ".cc", ".cpp", ".tcc", ".inl", ".def")
    cxx = os.path.join("/usr/include", "c++")

    def accept(path):
        return path.endswith(exts) or (path.startswith(cxx) and "." not in os.path.basename(path))

    return src_code(rng, "/usr/include", "code:c", accept)


def src_python(rng, args):
    return src_code(rng, "/usr/lib/python3.11", "code:python", lambda p: p.endswith(".py"))


def src_man(rng, args):
    top = os.path.join(args.src, "deb/usr/share/man")
    files = []
    for lang in ("de", "fr", "ja", "ru", "pl"):
        files += [(lang, p) for p in walk_files(os.path.join(top, lang), lambda p: p.endswith(".gz"))]
    rng.shuffle(files)
    for lang, path in files:
        text = read_text(path)
        if text is None or text.startswith(".so "):
            continue
        text = strip_roff(text)
        if text.strip():
            yield f"man:{lang}", cap(text)


def src_help(rng, args):
    top = os.path.join(args.src, "deb/usr/share/help")
    files = walk_files(top, lambda p: p.endswith(".page"))
    rng.shuffle(files)
    for path in files:
        lang = os.path.relpath(path, top).split(os.sep)[0]
        text = read_text(path)
        if text:
            text = strip_xml(text)
            if text.strip():
                yield f"help:{lang}", cap(text)


def src_zh(rng, args):
    path = os.path.join(args.src, "deb/usr/share/debian-reference/debian-reference.zh-cn.txt.gz")
    text = read_text(path)
    if not text:
        return
    paragraphs = text.split("\n\n")
    i = 0
    chunks = []
    while i < len(paragraphs):
        n = rng.choice([1, 2, 5, 10, 20, 50, 100])
        chunks.append("\n\n".join(paragraphs[i:i + n]) + "\n")
        i += n
    rng.shuffle(chunks)
    for chunk in chunks:
        yield "doc:zh-cn", cap(chunk)


def src_stdlib_txt(rng, args, folder, kind):
    files = walk_files(os.path.join(args.src, "npm", folder, "data"), lambda p: p.endswith(".txt"))
    rng.shuffle(files)
    for path in files:
        text = read_text(path)
        if text and text.strip():
            yield kind, cap(text)


def src_sotu(rng, args):
    return src_stdlib_txt(rng, args, "sotu", "prose:sotu")


def src_moby(rng, args):
    return src_stdlib_txt(rng, args, "moby-dick", "prose:moby")


def cldr_entries(args):
    top = os.path.join(args.src, "npm/cldr-annotations-full/annotations")
    by_locale = []
    for locale in sorted(os.listdir(top)) if os.path.isdir(top) else []:
        path = os.path.join(top, locale, "annotations.json")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            data = json.load(f)["annotations"]
        entries = []
        for key, value in data.get("annotations", {}).items():
            tts = " / ".join(value.get("tts", []))
            words = " | ".join(value.get("default", []))
            entries.append(f"{key} \u2014 {tts}: {words}" if tts else f"{key} \u2014 {words}")
        if entries:
            by_locale.append((locale, entries))
    return by_locale


# Languages whose scripts get a minimum share of the cldr: and iso: documents.
FOCUS_LANGS = ("he", "ar", "fa", "th", "hi", "bn", "ta", "el", "ko", "ja", "zh", "ru", "am",
               "ka", "hy", "km", "my", "si")
FOCUS_BYTES = 12_000


def round_robin(rng, groups):
    """Yields from each list of `groups` in turn (groups shuffled), so that a budget cut
    leaves every group about the same share; first FOCUS_BYTES of each focus language."""
    groups = [list(g) for g in groups if g]
    for g in groups:
        if g[0][0].split(":", 1)[1] in FOCUS_LANGS:
            taken = 0
            while g and taken < FOCUS_BYTES:
                doc = g.pop(0)
                taken += utf8_len(doc[1])
                yield doc
    groups = [g for g in groups if g]
    rng.shuffle(groups)
    for row in range(max((len(g) for g in groups), default=0)):
        for g in groups:
            if row < len(g):
                yield g[row]


def chunked(rng, kind, entries, sizes):
    docs, i = [], 0
    while i < len(entries):
        n = rng.choice(sizes)
        docs.append((kind, "\n".join(entries[i:i + n]) + "\n"))
        i += n
    rng.shuffle(docs)
    return docs


def src_cldr(rng, args):
    groups = [chunked(rng, f"cldr:{locale}", entries, [1, 3, 10, 30, 100, 300])
              for locale, entries in cldr_entries(args)]
    yield from round_robin(rng, groups)


def src_iso(rng, args):
    """Debian's iso-codes translations (.mo): names of countries, their subdivisions,
    languages, currencies and scripts in ~150 languages, as "English — translation" lines."""
    import gettext
    top = os.path.join(args.src, "deb/usr/share/locale")
    domains = ("iso_3166-1", "iso_3166-2", "iso_639-3", "iso_4217", "iso_15924")
    groups = []
    for lang in sorted(os.listdir(top)) if os.path.isdir(top) else []:
        entries = []
        for domain in domains:
            path = os.path.join(top, lang, "LC_MESSAGES", domain + ".mo")
            if not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as f:
                    catalog = gettext.GNUTranslations(f)._catalog
            except (OSError, ValueError):   # bad magic or charset: skip the catalogue
                continue
            entries += [f"{k} \u2014 {v}" for k, v in sorted(catalog.items())
                        if isinstance(k, str) and k and v and v != k]
        if entries:
            groups.append(chunked(rng, f"iso:{lang}", entries, [1, 5, 20, 100, 400]))
    yield from round_robin(rng, groups)


def emoji_test(args):
    path = os.path.join(args.src, "deb/usr/share/unicode/emoji/emoji-test.txt")
    text = read_text(path) or ""
    sequences = []
    for line in text.split("\n"):
        m = re.match(r"([0-9A-F ]+);\s*fully-qualified\s*#", line)
        if m:
            sequences.append("".join(chr(int(cp, 16)) for cp in m.group(1).split()))
    return text, sequences


def src_emoji(rng, args, prose):
    text, sequences = emoji_test(args)
    if not sequences:
        return
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):             # the file itself, in pieces
        n = rng.choice([5, 20, 100, 400])
        out.append(("emoji:test-file", "\n".join(lines[i:i + n]) + "\n"))
        i += n
    zwj = [s for s in sequences if "\u200d" in s]
    tones = [s for s in sequences if any(0x1F3FB <= ord(c) <= 0x1F3FF for c in s)]
    for _ in range(400):              # runs of emoji
        pool = rng.choice([sequences, zwj, tones])
        n = rng.choice([1, 2, 5, 20, 100, 500])
        sep = rng.choice(["", "", " ", "\n", ", "])
        out.append(("emoji:run", sep.join(rng.choice(pool) for _ in range(n))))
    for _ in range(300):              # emoji in prose
        words = rng.choice(prose).split(" ")[: rng.choice([10, 50, 300])]
        for _ in range(max(1, len(words) // 8)):
            pos = rng.randrange(len(words))
            words[pos] = words[pos] + rng.choice(["", " "]) + rng.choice(sequences)
        out.append(("emoji:in-text", " ".join(words)))
    rng.shuffle(out)
    yield from out


# ---------------------------------------------------------------------------------------------
# Derived documents


def paragraphs_of(docs, rng, limit=4000):
    paras = []
    for _, text in docs:
        for p in text.split("\n\n"):
            if 20 <= len(p) <= limit:
                paras.append(p)
    rng.shuffle(paras)
    return paras


def hard_cases(rng, pools, budget):
    """Yields ("hard:NAME", text) until `budget` bytes, round robin over the generators."""
    prose = pools["prose"]
    accented = pools["accented"]
    code = pools["code"]
    english = pools["english"]
    any_text = pools["any"]

    def pick(pool):
        return rng.choice(pool)

    def chunk():   # a multi-line piece of a real document
        return cap(rng.choice(pools["docs"]), rng.choice([300, 1000, 4000, 20000, 60000]))

    def spaces(text):
        words = text.split(" ")
        return "".join(w + (" " * rng.choice([1, 1, 1, 2, 3, 4, 7, 16, 40]) if i < len(words) - 1 else "")
                       for i, w in enumerate(words))

    def g_spaces():
        t = spaces(rng.choice([pick(any_text), chunk()]))
        lines = t.split("\n")
        return "\n".join((" " * rng.randint(0, 40)) + ln + (" " * rng.choice([0, 0, 1, 2, 5, 33]))
                         for ln in lines)

    def g_tabs():
        t = rng.choice([pick(any_text), pick(code), chunk()])
        return re.sub(r" {1,8}", lambda m: rng.choice(["\t", "\t\t", " \t", "\t ", "\t\t\t\t", m.group(0)]), t)

    def g_crlf():
        t = rng.choice([pick(any_text), pick(code), chunk(), chunk()])
        mode = rng.choice(["crlf", "cr", "mixed"])
        if mode == "crlf":
            return t.replace("\n", "\r\n")
        if mode == "cr":
            return t.replace("\n", "\r")
        return re.sub("\n", lambda m: rng.choice(["\n", "\r\n", "\r", "\n\r", "\r\r\n", " \r\n",
                                                  "\n\n", "\r\n\r\n", "  \n", "\t\r\n"]), t)

    def g_long_word():
        kind = rng.choice(["letters", "letters", "digits", "punct", "repeat", "mixed"])
        n = rng.choice([300, 1000, 2000, 4000, 8000])
        if kind == "letters":
            src = "".join(c for c in pick(prose) if unicodedata.category(c)[0] in "LM")
            while len(src) < n and src:
                src += "".join(c for c in pick(prose) if unicodedata.category(c)[0] in "LM")
            word = src[:n]
        elif kind == "digits":
            word = "".join(rng.choice("0123456789") for _ in range(n))
        elif kind == "punct":
            src = "".join(c for c in pick(code) if not c.isspace() and not c.isalnum())
            word = (src * (n // max(1, len(src)) + 1))[:n]
        elif kind == "repeat":
            word = rng.choice(["a", "=", "-", "0", "ab", "\u3042", "\u00e9", "\U0001f600", "_", "x."]) * (n // 2)
        else:
            src = re.sub(r"\s+", "", pick(code))
            word = (src * (n // max(1, len(src)) + 1))[:n]
        words = pick(prose).split(" ")
        words.insert(rng.randrange(len(words) + 1), word)
        return " ".join(words) if rng.random() < 0.7 else word

    def number():
        style = rng.randrange(9)
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([1, 2, 3, 4, 5, 6, 7, 9, 12, 16, 20, 33, 64])))
        if style == 0:
            return digits
        if style == 1:
            return f"{int(digits):,}"
        if style == 2:
            return f"{digits}.{rng.randint(0, 99999)}"
        if style == 3:
            return f"-{digits[:8]}e{rng.choice(['-', '+', ''])}{rng.randint(0, 308)}"
        if style == 4:
            return "0x" + format(int(digits), "X")
        if style == 5:
            return f"{rng.randint(1900, 2099)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        if style == 6:   # other scripts' digits: Arabic-Indic, Devanagari, fullwidth, Thai
            base = rng.choice([0x660, 0x966, 0xFF10, 0xE50, 0x6F0])
            return "".join(chr(base + int(d)) for d in digits)
        if style == 7:
            return rng.choice(["\u00b2", "\u00bd", "\u2167", "\u2460", "\u00b3\u2044\u2084"]) + digits[:3]
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[:2]}"

    def g_numbers():
        words = pick(prose).split(" ")
        for _ in range(max(1, len(words) // 5)):
            words.insert(rng.randrange(len(words) + 1), number())
        if rng.random() < 0.2:
            return "\n".join(number() for _ in range(rng.choice([10, 100, 1000])))
        return " ".join(words)

    def g_nfd():
        t = pick(accented)
        form = rng.choice(["NFD", "NFD", "NFKD", "NFKC", "stack"])
        if form != "stack":
            return unicodedata.normalize(form, t)
        marks = [chr(c) for c in range(0x300, 0x370)]
        return "".join(c + ("".join(rng.choice(marks) for _ in range(rng.randint(1, 6)))
                            if c.isalpha() and rng.random() < 0.3 else "") for c in t)

    def g_unicode_spaces():
        t = rng.choice([pick(any_text), chunk()])
        chars = list(t)
        for _ in range(max(1, len(chars) // 30)):
            pos = rng.randrange(len(chars) + 1)
            chars.insert(pos, rng.choice(UNICODE_SPACES) * rng.choice([1, 1, 2, 3]))
        out = "".join(chars)
        return ("\ufeff" + out) if rng.random() < 0.3 else out

    def g_contractions():
        t = pick(english)
        forms = ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m", "'M", "'ll",
                 "'LL", "'Ll", "'d", "'D", "\u2019s", "\u2019t", "''s", "' s", "'", "'ſ"]
        words = t.split(" ")
        for _ in range(max(1, len(words) // 6)):
            pos = rng.randrange(len(words))
            words[pos] = words[pos] + rng.choice(forms)
        out = " ".join(words)
        return out.upper() if rng.random() < 0.2 else out

    def g_special():
        t = rng.choice([pick(any_text), pick(code), chunk()])
        lits = SPECIAL_LITERALS + ["<|endoftext", "|endoftext|>", "<|endoftext|>>", "<<|endoftext|>",
                                   "<|ENDOFTEXT|>", "< s>", "<s >", "<s><s>", "</s></s>"]
        chars = list(t)
        for _ in range(rng.choice([1, 2, 5, 20])):
            pos = rng.randrange(len(chars) + 1)
            lit = rng.choice(lits)
            chars.insert(pos, rng.choice(["", " ", "\n", "  "]) + lit + rng.choice(["", " ", "\n"]))
        out = "".join(chars)
        where = rng.randrange(4)
        if where == 0:
            out = rng.choice(SPECIAL_LITERALS) + out
        elif where == 1:
            out = out + rng.choice(SPECIAL_LITERALS)
        elif where == 2:
            out = "".join(rng.choice(SPECIAL_LITERALS) for _ in range(rng.randint(2, 30)))
        return out

    def g_edges():
        style = rng.randrange(8)
        if style == 0:
            return ""
        if style == 1:
            return rng.choice([" ", "  ", "\n", "\r\n", "\t", " \n ", "\n\n\n", "   \t  ", "\r", "\u3000"])
        if style == 2:   # a few bytes
            t = pick(any_text)
            i = rng.randrange(len(t))
            return t[i:i + rng.randint(1, 6)]
        if style == 3:
            return rng.choice([" ", "  ", "\n", "\t", " \n"]) + pick(any_text)
        if style == 4:
            return pick(any_text) + rng.choice([" ", "  ", "\n", "\n\n", " \n", "\t", "\r\n", "      "])
        if style == 5:
            return (" " * rng.randint(1, 40)) + pick(any_text).strip() + (" " * rng.randint(1, 40))
        if style == 6:
            return rng.choice(["'s", "'", "\u2019", "a", "I", "\u00e9", "\u4e00", "\U0001f600",
                               "0", "00", "000", "0000", "<", "|", "\u0301", "a\u0301", "\u200d"])
        return pick(any_text).strip()

    generators = [g_spaces, g_tabs, g_crlf, g_long_word, g_numbers, g_nfd, g_unicode_spaces,
                  g_contractions, g_special, g_edges]
    used = 0
    k = 0
    while used < budget:
        g = generators[k % len(generators)]
        k += 1
        text = cap(g())
        used += utf8_len(text) + 1
        yield "hard:" + g.__name__[2:].replace("_", "-"), text


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--mb", type=float, default=24)
    ap.add_argument("--src", default=os.path.join(ROOT, "corpus", "tokenize", "src"))
    args = ap.parse_args()

    for need in ("deb/usr/share/help", "deb/usr/share/man", "npm/sotu", "npm/cldr-annotations-full"):
        if not os.path.isdir(os.path.join(args.src, need)):
            sys.exit(f"make_corpus: {os.path.join(args.src, need)} is missing: run `make setup`")

    total = int(args.mb * 1_000_000)
    rng = random.Random(f"mixtera-tokenizer-corpus-{args.mb:g}")
    clean = Cleaner()
    docs = []
    size = 0

    def add(kind, text):
        nonlocal size
        text = clean(text)
        text.encode("utf-8")          # raises on lone surrogates: all text is valid UTF-8
        docs.append((kind, text))
        size += utf8_len(text)

    sources = {"help": src_help, "man": src_man, "doc:zh-cn": src_zh, "prose:sotu": src_sotu,
               "prose:moby": src_moby, "cldr": src_cldr, "iso": src_iso, "code:python": src_python,
               "code:c": src_c}
    carry = 0
    for name, share in SHARES:
        budget = int(total * share) + carry
        if name == "emoji":
            prose_now = [t for k, t in docs if k.startswith(("prose:", "help:", "man:"))]
            gen = src_emoji(rng, args, paragraphs_of([("", t) for t in prose_now], rng))
        else:
            gen = sources[name](random.Random(rng.random()), args)
        used = 0
        for kind, text in gen:
            if used >= budget:
                break
            add(kind, text)
            used += utf8_len(text)
        carry = max(0, budget - used)

    real = list(docs)
    prose = paragraphs_of([d for d in real if d[0].startswith(("prose:", "help:", "man:", "doc:", "cldr:", "iso:"))], rng)
    pools = {
        "prose": prose,
        "english": paragraphs_of([d for d in real if d[0] in ("prose:sotu", "prose:moby", "help:C")], rng),
        "accented": [p for p in prose if any(unicodedata.decomposition(c) for c in p[:400])] or prose,
        "code": paragraphs_of([d for d in real if d[0].startswith("code:")], rng),
        "any": paragraphs_of(real, rng),
        "docs": [t for _, t in real if t],
    }

    # snippets: single lines and paragraphs (a few bytes to a few KB)
    budget = int(total * DERIVED_SHARES[0][1])
    used = 0
    while used < budget:
        kind, text = rng.choice(real)
        if rng.random() < 0.5:
            lines = [ln for ln in text.split("\n") if ln.strip()]
            piece = rng.choice(lines) if lines else text
        else:
            parts = text.split("\n\n")
            piece = parts[rng.randrange(len(parts))]
        add("snippet:" + kind.split(":")[0], piece)
        used += utf8_len(piece) + 1

    # mixed: concatenations of different sources, 20 KB to 200 KB
    budget = int(total * DERIVED_SHARES[1][1])
    used = 0
    while used < budget:
        target = rng.choice([20_000, 50_000, 100_000, 190_000])
        parts, n = [], 0
        while n < target:
            _, text = rng.choice(real)
            parts.append(text)
            n += utf8_len(text)
        text = cap(rng.choice(["\n", "\n\n", "", " "]).join(parts))
        add("mixed", text)
        used += utf8_len(text)

    for kind, text in hard_cases(rng, pools, int(total * DERIVED_SHARES[2][1])):
        add(kind, text)

    rng.shuffle(docs)
    # The first document starts with U+FEFF on every machine: a decoder that drops a leading
    # byte-order mark (JavaScript's TextDecoder) must be caught by the oracle comparison, not
    # depend on where the shuffle put such a document.
    docs.insert(0, ("hard:leading-bom", "\ufeff" + rng.choice(pools["english"])))
    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for kind, text in docs:
            f.write(json.dumps({"text": text, "kind": kind}, ensure_ascii=False))
            f.write("\n")
    os.replace(tmp, args.out)

    # summary
    groups = {}
    for kind, text in docs:
        g = groups.setdefault(kind.split(":")[0], [0, 0, set()])
        g[0] += 1
        g[1] += utf8_len(text)
        g[2].add(kind)
    sizes = sorted(utf8_len(t) for _, t in docs)
    print(f"make_corpus: {args.out}: {len(docs)} docs, {size / 1e6:.1f} MB of text "
          f"(doc sizes: min {sizes[0]} B, median {sizes[len(sizes) // 2]} B, "
          f"max {sizes[-1]} B; {sum(1 for s in sizes if s == 0)} empty); "
          f"{clean.dropped} characters unassigned in Unicode 14 dropped", file=sys.stderr)
    for name, (n, b, kinds) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        print(f"  {name:8s} {n:7d} docs {b / 1e6:7.2f} MB  {len(kinds):3d} kinds", file=sys.stderr)
    hard = {}
    for kind, text in docs:
        if kind.startswith("hard:"):
            h = hard.setdefault(kind, [0, 0])
            h[0] += 1
            h[1] += utf8_len(text)
    print("  hard: " + ", ".join(f"{k[5:]} {n} ({b / 1e3:.0f} KB)" for k, (n, b) in sorted(hard.items())),
          file=sys.stderr)


if __name__ == "__main__":
    main()
