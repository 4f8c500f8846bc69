#!/usr/bin/env node
// Encodes every document of a corpus JSONL ({"text": ..., "kind": ...} per line) with a
// reference ("oracle") tokenizer and writes the ids, for Mixtera's tokenizer exactness test.
//
//   node oracle_encode.js ORACLE ARG --corpus FILE --out FILE [--allow-special]
//                         [--roundtrip FILE] [--modules DIR]
//
// ORACLE ARG:
//   hf TOKENIZER_JSON          Hugging Face tokenizers (the Rust core as a native addon),
//                              Tokenizer.fromFile + encodeBatch with addSpecialTokens: false.
//                              Added tokens in the text are split off as HF always does.
//   gpt-tokenizer ENCODING     gpt-tokenizer (r50k_base, p50k_base, cl100k_base, o200k_base):
//                              special-token strings are plain text (disallowedSpecial empty,
//                              i.e. tiktoken's encode_ordinary); --allow-special: all allowed.
//   tiktoken ENCODING          tiktoken's WASM build of OpenAI's Rust code: encode_ordinary;
//                              --allow-special: encode(text, "all").
//   js-tiktoken ENCODING       js-tiktoken (pure JS port): encode(text, [], []);
//                              --allow-special: encode(text, "all").
//
// --out: per document, in corpus order, a little-endian uint32 count and that many int32 ids.
// --roundtrip: one JSON line {"i": DOC, "decoded": STRING} for every document whose oracle
// decode(encode(text)) is not the text itself.
// --modules: the folder holding node_modules (default: third_party/tokenizer_oracles).
// Prints docs, MB, tokens and seconds (encoding only) to stderr.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function usage(msg) {
  if (msg) process.stderr.write(`oracle_encode: ${msg}\n`);
  process.stderr.write('usage: node oracle_encode.js {hf FILE|gpt-tokenizer ENC|tiktoken ENC|' +
    'js-tiktoken ENC} --corpus FILE --out FILE [--allow-special] [--roundtrip FILE] [--modules DIR]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { allowSpecial: false, roundtrip: null,
    modules: path.join(__dirname, '..', '..', 'third_party', 'tokenizer_oracles') };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--allow-special') opts.allowSpecial = true;
    else if (a === '--corpus' || a === '--out' || a === '--roundtrip' || a === '--modules') {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      opts[a.slice(2)] = argv[++i];
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 2) usage('expected ORACLE and its argument');
  if (!opts.corpus || !opts.out) usage('--corpus and --out are required');
  [opts.oracle, opts.arg] = positional;
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
      let doc;
      try {
        doc = JSON.parse(data.slice(start, end));
      } catch (e) {
        throw new Error(`${file}:${line}: ${e.message}`);
      }
      if (typeof doc.text !== 'string') throw new Error(`${file}:${line}: no "text" string`);
      texts.push(doc.text);
    }
    start = end + 1;
  }
  return texts;
}

const ENCODINGS = ['r50k_base', 'p50k_base', 'p50k_edit', 'cl100k_base', 'o200k_base'];

// Each oracle: { encodeAll(texts) -> Promise<Array<ArrayLike<number>>>,
//                decodeAll(idLists) -> Promise<string[]> }
function makeOracle(opts, req) {
  const { oracle, arg, allowSpecial } = opts;
  if (oracle === 'hf') {
    const { Tokenizer } = req('tokenizers');
    const tok = Tokenizer.fromFile(path.resolve(arg));
    const BATCH = 256;
    return {
      async encodeAll(texts) {
        const out = [];
        for (let i = 0; i < texts.length; i += BATCH) {
          const encs = await tok.encodeBatch(texts.slice(i, i + BATCH), { addSpecialTokens: false });
          for (const e of encs) out.push(e.getIds());
        }
        return out;
      },
      async decodeAll(idLists) {
        const out = [];
        for (let i = 0; i < idLists.length; i += BATCH) {
          const part = idLists.slice(i, i + BATCH).map((ids) => Array.from(ids));
          out.push(...(await tok.decodeBatch(part, false)));
        }
        return out;
      },
    };
  }
  if (!ENCODINGS.includes(arg)) usage(`unknown encoding ${arg} (one of ${ENCODINGS.join(', ')})`);
  if (oracle === 'gpt-tokenizer') {
    const enc = req(`gpt-tokenizer/encoding/${arg}`);
    const options = allowSpecial ? { allowedSpecial: 'all' } : { disallowedSpecial: new Set() };
    return {
      async encodeAll(texts) { return texts.map((t) => enc.encode(t, options)); },
      async decodeAll(idLists) { return idLists.map((ids) => enc.decode(Array.from(ids))); },
    };
  }
  if (oracle === 'tiktoken') {
    const { get_encoding } = req('tiktoken');
    const enc = get_encoding(arg);
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    return {
      async encodeAll(texts) {
        return texts.map((t) => (allowSpecial ? enc.encode(t, 'all') : enc.encode_ordinary(t)));
      },
      async decodeAll(idLists) {
        return idLists.map((ids) => decoder.decode(enc.decode(Uint32Array.from(ids))));
      },
    };
  }
  if (oracle === 'js-tiktoken') {
    const { getEncoding } = req('js-tiktoken');
    const enc = getEncoding(arg);
    return {
      async encodeAll(texts) {
        return texts.map((t) => (allowSpecial ? enc.encode(t, 'all') : enc.encode(t, [], [])));
      },
      async decodeAll(idLists) { return idLists.map((ids) => enc.decode(Array.from(ids))); },
    };
  }
  return usage(`unknown oracle ${oracle}`);
}

function writeIds(file, idLists) {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  const CHUNK = 1 << 20;  // ints per write
  let buf = new Int32Array(CHUNK);
  let n = 0;
  const flush = () => {
    if (n > 0) fs.writeSync(fd, Buffer.from(buf.buffer, 0, n * 4));
    n = 0;
  };
  // Int32Array is little-endian on every platform node runs on here (x86-64, arm64).
  for (const ids of idLists) {
    if (n + 1 + ids.length > CHUNK) {
      flush();
      if (1 + ids.length > CHUNK) buf = new Int32Array(1 + ids.length);
    }
    buf[n++] = ids.length;
    for (let i = 0; i < ids.length; i++) buf[n++] = ids[i];
  }
  flush();
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const modulesDir = path.resolve(opts.modules);
  if (!fs.existsSync(path.join(modulesDir, 'node_modules'))) {
    throw new Error(`${modulesDir}/node_modules is missing: run \`make setup\``);
  }
  const req = createRequire(path.join(modulesDir, 'package.json'));
  const texts = readCorpus(opts.corpus);
  const oracle = makeOracle(opts, req);

  const t0 = process.hrtime.bigint();
  const idLists = await oracle.encodeAll(texts);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

  let tokens = 0;
  for (const ids of idLists) tokens += ids.length;
  writeIds(opts.out, idLists);

  let rtSeconds = null;
  let rtDiffer = 0;
  if (opts.roundtrip) {
    const t1 = process.hrtime.bigint();
    const decoded = await oracle.decodeAll(idLists);
    rtSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
    const lines = [];
    decoded.forEach((d, i) => {
      if (d !== texts[i]) {
        rtDiffer++;
        lines.push(JSON.stringify({ i, decoded: d }));
      }
    });
    fs.writeFileSync(opts.roundtrip, lines.length ? `${lines.join('\n')}\n` : '');
  }

  const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t, 'utf8'), 0);
  const mode = opts.allowSpecial ? ' (allow special)' : '';
  process.stderr.write(`oracle_encode ${opts.oracle} ${path.basename(opts.arg)}${mode}: ` +
    `${texts.length} docs, ${(bytes / 1e6).toFixed(2)} MB, ${tokens} tokens, ` +
    `${seconds.toFixed(2)} s (${(bytes / 1e6 / seconds).toFixed(2)} MB/s)` +
    (opts.roundtrip ? `; decode ${rtSeconds.toFixed(2)} s, ${rtDiffer} docs do not round-trip` : '') +
    '\n');
}

main().catch((e) => {
  process.stderr.write(`oracle_encode: ERROR: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
