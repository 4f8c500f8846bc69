#!/usr/bin/env node
// The npm peers of bench/tokenize (README.md there): times one peer tokenizer over a corpus
// and prints JSON lines in the format of tokenize_bench, so that run.py can compare them.
//
//   node peers.js --peer hf|tiktoken|gpt-tokenizer --tokenizer PATH_OR_ENCODING
//                 --corpus FILE.jsonl [--repeat R] [--warmup-mb M] [--batch-texts N]
//                 [--batch-mb M] [--modules DIR] [--dump-ids FILE]
//
//   hf             Hugging Face `tokenizers` (the Rust core as a native addon):
//                  Tokenizer.fromFile(PATH), then the batch API, encodeBatch(texts,
//                  {addSpecialTokens: false}) on batches of up to N texts / M MB (default 1000
//                  texts, 4 MB), and getIds() of every encoding. Its threads are rayon's:
//                  run.py sets RAYON_NUM_THREADS (1 or 2).
//   tiktoken       the `tiktoken` package (WASM build of OpenAI's Rust tiktoken):
//                  get_encoding(ENC).encode_ordinary(text) (special-token text is plain text).
//   gpt-tokenizer  the `gpt-tokenizer` package (pure JS): encoding/ENC's
//                  encode(text, {disallowedSpecial: new Set()}) (special-token text is plain
//                  text, as encode_ordinary); its default merge cache.
//
// The corpus is read and the tokenizer loaded before any timing; the first M MB (default 4)
// are encoded once as a warm-up; then every repetition (default 3) encodes all texts, keeping
// the ids (as a caller would), and only that is timed. Output, one JSON line each:
//   {"event": "load", "impl", "tokenizer", "load_s", "texts", "bytes"}
//   {"event": "rep", "impl", "rep", "threads", "seconds", "bytes", "mb", "texts", "tokens",
//    "mb_per_s", "tokens_per_s", "ids_hash"}
// ids_hash: 32-bit FNV-1a over every document's id count and ids, as tokenize_bench computes
// it (computed after the timer stops). MB are 10^6 bytes of UTF-8 text. --dump-ids writes the
// last repetition's ids as tokenize_bench does (per document a uint32 count, then the ids).
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function usage(msg) {
  if (msg) process.stderr.write(`peers.js: ${msg}\n`);
  process.stderr.write('usage: node peers.js --peer hf|tiktoken|gpt-tokenizer --tokenizer ' +
    'PATH_OR_ENCODING --corpus FILE [--repeat R] [--warmup-mb M] [--batch-texts N] ' +
    '[--batch-mb M] [--modules DIR] [--dump-ids FILE]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    peer: null, tokenizer: null, corpus: null, repeat: 3, 'warmup-mb': 4, 'batch-texts': 1000,
    'batch-mb': 4, 'dump-ids': null,
    modules: path.join(__dirname, '..', '..', 'third_party', 'tokenizer_oracles'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) usage(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (!(key in opts)) usage(`unknown option ${a}`);
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    const v = argv[++i];
    opts[key] = typeof opts[key] === 'number' ? Number(v) : v;
    if (Number.isNaN(opts[key])) usage(`${a} needs a number`);
  }
  if (!opts.peer || !opts.tokenizer || !opts.corpus) {
    usage('--peer, --tokenizer and --corpus are required');
  }
  if (!(opts.repeat >= 1)) usage('--repeat must be >= 1');
  return opts;
}

function readCorpus(file) {
  const texts = [];
  const data = fs.readFileSync(file, 'utf8');
  let start = 0;
  let line = 0;
  while (start < data.length) {
    let end = data.indexOf('\n', start);
    if (end < 0) end = data.length;
    line++;
    if (end > start) {
      const doc = JSON.parse(data.slice(start, end));
      if (typeof doc.text !== 'string') throw new Error(`${file}:${line}: no "text" string`);
      texts.push(doc.text);
    }
    start = end + 1;
  }
  return texts;
}

const ENCODINGS = ['r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base'];

// Returns {threads, encodeAll(texts, sizes) -> Promise<Array<ArrayLike<number>>>}; sizes[i] is
// the UTF-8 length of texts[i] (HF's batches are cut by it).
function makePeer(opts, req) {
  const { peer, tokenizer } = opts;
  if (peer === 'hf') {
    const { Tokenizer } = req('tokenizers');
    const tok = Tokenizer.fromFile(path.resolve(tokenizer));
    const maxTexts = opts['batch-texts'];
    const maxBytes = opts['batch-mb'] * 1e6;
    const env = process.env.RAYON_NUM_THREADS;
    return {
      threads: env ? Number(env) : require('os').cpus().length,
      async encodeAll(texts, sizes) {
        const out = [];
        let i = 0;
        while (i < texts.length) {
          let j = i;
          let bytes = 0;
          while (j < texts.length && j - i < maxTexts && (j === i || bytes < maxBytes)) {
            bytes += sizes[j];
            j++;
          }
          const encs = await tok.encodeBatch(texts.slice(i, j), { addSpecialTokens: false });
          for (const e of encs) out.push(e.getIds());
          i = j;
        }
        return out;
      },
    };
  }
  if (!ENCODINGS.includes(tokenizer)) {
    usage(`unknown encoding ${tokenizer} (one of ${ENCODINGS.join(', ')})`);
  }
  if (peer === 'tiktoken') {
    const { get_encoding } = req('tiktoken');
    const enc = get_encoding(tokenizer);
    return {
      threads: 1,
      async encodeAll(texts) { return texts.map((t) => enc.encode_ordinary(t)); },
    };
  }
  if (peer === 'gpt-tokenizer') {
    const enc = req(`gpt-tokenizer/encoding/${tokenizer}`);
    const options = { disallowedSpecial: new Set() };
    return {
      threads: 1,
      async encodeAll(texts) { return texts.map((t) => enc.encode(t, options)); },
    };
  }
  return usage(`unknown peer ${peer}`);
}

// 32-bit FNV-1a over each document's id count and ids (the same as tokenize_bench).
function idsHash(idLists) {
  let h = 2166136261;
  for (const ids of idLists) {
    h = Math.imul(h ^ ids.length, 16777619) >>> 0;
    for (let k = 0; k < ids.length; k++) h = Math.imul(h ^ ids[k], 16777619) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function dumpIds(file, idLists) {
  const fd = fs.openSync(file, 'w');
  const CHUNK = 1 << 20;  // ints per write
  const buf = new Int32Array(CHUNK);
  let n = 0;
  const flush = () => {
    fs.writeSync(fd, Buffer.from(buf.buffer, 0, n * 4));
    n = 0;
  };
  for (const ids of idLists) {
    if (n + 1 > CHUNK) flush();
    buf[n++] = ids.length;
    for (let k = 0; k < ids.length; k++) {
      if (n === CHUNK) flush();
      buf[n++] = ids[k];
    }
  }
  flush();
  fs.closeSync(fd);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const req = createRequire(path.join(path.resolve(opts.modules), 'node_modules', 'x.js'));
  const texts = readCorpus(opts.corpus);
  const sizes = texts.map((t) => Buffer.byteLength(t, 'utf8'));
  let bytes = 0;
  for (const s of sizes) bytes += s;

  const t0 = process.hrtime.bigint();
  const peer = makePeer(opts, req);
  const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
  const implName = opts.peer === 'hf' ? 'hf-tokenizers' : opts.peer;
  const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
  emit({ event: 'load', impl: implName, tokenizer: opts.tokenizer, load_s: loadS,
    texts: texts.length, bytes });

  const warm = [];
  let warmBytes = 0;
  for (let i = 0; i < texts.length && warmBytes < opts['warmup-mb'] * 1e6; i++) {
    warm.push(texts[i]);
    warmBytes += sizes[i];
  }
  await peer.encodeAll(warm, sizes);

  for (let rep = 0; rep < opts.repeat; rep++) {
    const a = process.hrtime.bigint();
    let ids = await peer.encodeAll(texts, sizes);
    const s = Number(process.hrtime.bigint() - a) / 1e9;
    let tokens = 0;
    for (const x of ids) tokens += x.length;
    const mb = bytes / 1e6;
    emit({ event: 'rep', impl: implName, rep, threads: peer.threads, seconds: s, bytes, mb,
      texts: texts.length, tokens, mb_per_s: mb / s, tokens_per_s: tokens / s,
      ids_hash: idsHash(ids) });
    if (rep + 1 === opts.repeat && opts['dump-ids']) dumpIds(opts['dump-ids'], ids);
    ids = null;
  }
}

main().catch((e) => {
  process.stderr.write(`peers.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
