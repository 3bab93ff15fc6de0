#!/usr/bin/env node
// ONNX Runtime (CPU, the npm package onnxruntime-node) as gnrt's peer engine, for tests and
// benchmarks. Subcommands:
//
//   node ort.js run --model M.onnx --input IN.f32 --shape 1,1,H,W --output OUT.f32 [--threads N]
//                   [--save-optimized PATH]
//     one inference of the model's first input; IN.f32 holds the input tensor as raw
//     little-endian float32 (NCHW), OUT.f32 receives the first output the same way.
//
//   node ort.js bench --model M.onnx --size S [--threads T] [--runs N] [--warmup W] [--json]
//                     [--gap-ms G] [--save-optimized PATH]
//     one session (intraOpNumThreads=T, interOpNumThreads=1, sequential, graph optimization
//     "all"), input [1,C,S,S] (C from the metadata gnrt.input_channels, default 1; fixed
//     pseudo-random values), W untimed runs then N runs each timed with process.hrtime.bigint().
//     Text: a few key=value lines, the last one "median_ms=X min_ms=Y max_ms=Z runs=N".
//     --json: one JSON object instead (every run time, the ORT version, gnrt.precision).
//     Defaults: threads 1, runs 20, warmup 2, gap 0 (--gap-ms G sleeps G ms before each timed
//     run, as bench_sparse --gap-ms does, so idle pool threads are treated alike).
//
//   node ort.js eval --model M.onnx [--images GZ --labels GZ] [--limit N] [--size S] [--threads T]
//                    [--dump-input IN.f32]
//     top-1 accuracy over a gzipped (or raw) IDX dataset, by default the Fashion-MNIST test set
//     (/usr/share/datasets/fashion-mnist/t10k-*-ubyte.gz). Each 28x28 image is resized to SxS
//     (default: the metadata gnrt.default_height x gnrt.default_width) and normalized exactly as
//     runtime/src/image.cc does for gnrt_plan_set_input_image_u8 (see resizeNormalize below),
//     with the metadata gnrt.mean / gnrt.std. Progress on stderr; the last stdout line is
//     "accuracy=0.XXXX n=N", as `gnrt eval` prints it. --dump-input writes the first image's
//     input tensor (raw little-endian float32), so tests can compare the preprocessing.
//
//   node ort.js ops --model M.onnx [--json]
//     the model's op types with counts (domain-qualified outside the default domain), IR
//     version, opsets and metadata_props. With a --save-optimized file this shows ORT's fused
//     graph (QLinearConv, QGemm, NhwcMaxPool, ...).
//
// --save-optimized PATH writes ORT's optimized graph (session option optimizedModelFilePath);
// with optimization level "all" it may hold layout-specific ops that only run on this CPU type.
//
// Errors (a missing file, a model ORT refuses, a wrong input size, an unknown flag, a bad IDX
// file, missing gnrt metadata) print "ort.js: <message>" on stderr and exit 1. Installed by
// scripts/install-deps.sh (npm ci --ignore-scripts in this folder).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
const MAX_SIZE = 4096;

function fail(message) {
  process.stderr.write(`ort.js: ${message}\n`);
  process.exit(1);
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    fail(`onnxruntime-node is not installed in ${__dirname}/node_modules ` +
         `(run scripts/install-deps.sh or 'npm ci --ignore-scripts' there): ${e.message}`);
  }
  return null;
}

function ortVersion() {
  try {
    return require('onnxruntime-node/package.json').version;
  } catch (e) {
    return 'unknown';
  }
}

// --key value pairs and --switch flags; every key must be in `allowed` or `switches`.
function parseFlags(argv, allowed, switches = []) {
  const flags = {};
  for (let i = 0; i < argv.length; ++i) {
    const key = argv[i];
    const name = key.startsWith('--') ? key.slice(2) : null;
    if (name !== null && switches.includes(name)) {
      flags[name] = true;
      continue;
    }
    if (name === null || !allowed.includes(name)) fail(`unknown flag '${key}'`);
    if (i + 1 >= argv.length) fail(`flag '${key}' needs a value`);
    if (flags[name] !== undefined) fail(`flag '${key}' given twice`);
    flags[name] = argv[++i];
  }
  return flags;
}

function require_flags(flags, names) {
  for (const name of names) {
    if (flags[name] === undefined) fail(`missing --${name}`);
  }
}

// An integer flag in [min, max], or `fallback` when absent.
function intFlag(flags, name, fallback, min, max) {
  if (flags[name] === undefined) return fallback;
  const text = flags[name];
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isInteger(value) || value < min || value > max) {
    fail(`bad --${name} '${text}' (expected an integer in [${min}, ${max}])`);
  }
  return value;
}

function parseShape(text) {
  const dims = text.split(',').map((d) => Number(d));
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    fail(`bad --shape '${text}' (expected positive integers separated by commas)`);
  }
  return dims;
}

function readFile(file) {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    fail(`cannot read '${file}': ${e.message}`);
  }
  return null;
}

function readFloats(file) {
  const bytes = readFile(file);
  if (bytes.length % 4 !== 0) fail(`'${file}' is ${bytes.length} bytes, not a multiple of 4`);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; ++i) out[i] = bytes.readFloatLE(4 * i);
  return out;
}

function writeAtomically(file, buffer) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp${process.pid}`);
  fs.writeFileSync(tmp, buffer);
  fs.renameSync(tmp, file);
}

// ---- A minimal protobuf reader for the parts of onnx.proto that ORT's JS API does not expose
// (metadata_props, the node list). Every length is checked against the buffer.

class ProtoError extends Error {}

function readVarint(buf, pos) {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; ++i) {
    if (pos.at >= buf.length) throw new ProtoError('truncated varint');
    const byte = buf[pos.at++];
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return value;  // exact up to 2^53, enough for lengths and versions
    scale *= 128;
  }
  throw new ProtoError('varint longer than 10 bytes');
}

// Calls visit(field, wireType, value) for each field of the message in buf[begin, end): value
// is a number for varints, a Buffer (subarray) for length-delimited fields, null otherwise.
function forEachField(buf, begin, end, visit) {
  const pos = { at: begin };
  while (pos.at < end) {
    const tag = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new ProtoError('field number 0');
    if (wire === 0) {
      visit(field, wire, readVarint(buf, pos));
    } else if (wire === 2) {
      const length = readVarint(buf, pos);
      if (length > end - pos.at) throw new ProtoError(`field ${field} runs past the end`);
      visit(field, wire, buf.subarray(pos.at, pos.at + length));
      pos.at += length;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (size > end - pos.at) throw new ProtoError(`field ${field} runs past the end`);
      pos.at += size;
      visit(field, wire, null);
    } else {
      throw new ProtoError(`unsupported wire type ${wire}`);
    }
  }
  if (pos.at !== end) throw new ProtoError('message runs past its end');
}

function fieldsOf(buf, visit) {
  forEachField(buf, 0, buf.length, visit);
}

// ModelProto: ir_version 1, graph 7 (GraphProto: node 1; NodeProto: op_type 4, domain 7),
// opset_import 8 (domain 1, version 2), metadata_props 14 (key 1, value 2).
function readModelInfo(file) {
  const bytes = readFile(file);
  const info = { irVersion: null, opsets: [], metadata: {}, ops: [] };
  try {
    fieldsOf(bytes, (field, wire, value) => {
      if (field === 1 && wire === 0) info.irVersion = value;
      if (field === 8 && wire === 2) {
        const opset = { domain: '', version: 0 };
        fieldsOf(value, (f, w, v) => {
          if (f === 1 && w === 2) opset.domain = v.toString('utf8');
          if (f === 2 && w === 0) opset.version = v;
        });
        info.opsets.push(opset);
      }
      if (field === 14 && wire === 2) {
        let key = '';
        let text = '';
        fieldsOf(value, (f, w, v) => {
          if (f === 1 && w === 2) key = v.toString('utf8');
          if (f === 2 && w === 2) text = v.toString('utf8');
        });
        info.metadata[key] = text;
      }
      if (field === 7 && wire === 2) {
        fieldsOf(value, (f, w, v) => {
          if (f !== 1 || w !== 2) return;
          const node = { opType: '', domain: '' };
          fieldsOf(v, (nf, nw, nv) => {
            if (nf === 4 && nw === 2) node.opType = nv.toString('utf8');
            if (nf === 7 && nw === 2) node.domain = nv.toString('utf8');
          });
          info.ops.push(node);
        });
      }
    });
  } catch (e) {
    if (e instanceof ProtoError) fail(`'${file}' is not an ONNX model: ${e.message}`);
    throw e;
  }
  if (info.irVersion === null || info.ops.length === 0) {
    fail(`'${file}' is not an ONNX model (no ir_version or no graph nodes)`);
  }
  return info;
}

// ---- gnrt metadata (the shared ONNX contract's metadata_props)

function metaInt(info, file, key, fallback, min, max) {
  const text = info.metadata[key];
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    fail(`'${file}' has no metadata '${key}' (not a gnrt export?)`);
  }
  const value = Number(text);
  if (!/^\s*[0-9]+\s*$/.test(text) || value < min || value > max) {
    fail(`'${file}': metadata '${key}' = '${text}' is not an integer in [${min}, ${max}]`);
  }
  return value;
}

function metaFloats(info, file, key, count) {
  const text = info.metadata[key];
  if (text === undefined) fail(`'${file}' has no metadata '${key}' (not a gnrt export?)`);
  const values = text.split(',').map((t) => (t.trim() === '' ? NaN : Number(t)));
  if (values.length !== count || values.some((v) => !Number.isFinite(v))) {
    fail(`'${file}': metadata '${key}' = '${text}' is not ${count} comma-separated number(s)`);
  }
  return values;
}

function inputChannels(info, file) {
  const channels = metaInt(info, file, 'gnrt.input_channels', 1, 1, 4096);
  return channels;
}

// ---- ORT sessions

async function createSession(ort, model, threads, optimizedPath) {
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  if (optimizedPath !== undefined) options.optimizedModelFilePath = optimizedPath;
  if (!fs.existsSync(model)) fail(`cannot read '${model}': no such file`);
  try {
    return await ort.InferenceSession.create(model, options);
  } catch (e) {
    fail(`ONNX Runtime cannot load '${model}': ${e.message}`);
  }
  return null;
}

async function runOnce(session, feeds) {
  try {
    return await session.run(feeds);
  } catch (e) {
    fail(`inference failed: ${e.message}`);
  }
  return null;
}

async function cmdRun(argv) {
  const flags = parseFlags(argv, ['model', 'input', 'shape', 'output', 'threads', 'save-optimized']);
  require_flags(flags, ['model', 'input', 'shape', 'output']);
  const threads = flags.threads === undefined ? 1 : Number(flags.threads);
  if (!Number.isInteger(threads) || threads < 1) fail(`bad --threads '${flags.threads}'`);
  const shape = parseShape(flags.shape);
  const data = readFloats(flags.input);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    fail(`'${flags.input}' holds ${data.length} floats, shape ${flags.shape} needs ${count}`);
  }
  const ort = loadOrt();
  const session = await createSession(ort, flags.model, threads, flags['save-optimized']);
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', data, shape);
  const results = await runOnce(session, feeds);
  const output = results[session.outputNames[0]].data;
  const buffer = Buffer.alloc(4 * output.length);
  for (let i = 0; i < output.length; ++i) buffer.writeFloatLE(output[i], 4 * i);
  writeAtomically(flags.output, buffer);
}

// ---- bench

function median(sorted) {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

// Deterministic input values in [-2, 2) (a 32-bit LCG), so every run sees the same tensor.
function benchInput(count) {
  const data = new Float32Array(count);
  let state = 12345;
  for (let i = 0; i < count; ++i) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = (state / 4294967296) * 4 - 2;
  }
  return data;
}

async function cmdBench(argv) {
  const flags = parseFlags(argv, ['model', 'size', 'threads', 'runs', 'warmup', 'gap-ms',
                                  'save-optimized'], ['json']);
  require_flags(flags, ['model', 'size']);
  const size = intFlag(flags, 'size', 0, 1, MAX_SIZE);
  const threads = intFlag(flags, 'threads', 1, 1, 256);
  const runs = intFlag(flags, 'runs', 20, 1, 1000000);
  const warmup = intFlag(flags, 'warmup', 2, 0, 1000000);
  const gapMs = intFlag(flags, 'gap-ms', 0, 0, 10000);
  const info = readModelInfo(flags.model);
  const channels = inputChannels(info, flags.model);
  const precision = info.metadata['gnrt.precision'] || 'unknown';
  const ort = loadOrt();
  const session = await createSession(ort, flags.model, threads, flags['save-optimized']);
  const shape = [1, channels, size, size];
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', benchInput(channels * size * size), shape);
  const loadBefore = os.loadavg()[0];
  for (let i = 0; i < warmup; ++i) await runOnce(session, feeds);
  const times = [];
  for (let i = 0; i < runs; ++i) {
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    const start = process.hrtime.bigint();
    await runOnce(session, feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const summary = { median_ms: median(sorted), min_ms: sorted[0], max_ms: sorted[sorted.length - 1] };
  if (flags.json) {
    const out = {
      tool: 'ort.js bench', ort_version: ortVersion(), model: flags.model, precision,
      source: info.metadata['gnrt.source'] || null, input_shape: shape, threads, runs, warmup,
      gap_ms: gapMs,
      ...summary, runs_ms: times, loadavg_before: loadBefore, loadavg_after: os.loadavg()[0],
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  process.stdout.write(`model=${flags.model} precision=${precision} ort=${ortVersion()}\n`);
  process.stdout.write(`input=${shape.join('x')} threads=${threads} warmup=${warmup}\n`);
  process.stdout.write(`loadavg_before=${loadBefore.toFixed(2)} loadavg_after=${os.loadavg()[0].toFixed(2)}\n`);
  process.stdout.write(`median_ms=${summary.median_ms.toFixed(3)} min_ms=${summary.min_ms.toFixed(3)} ` +
                       `max_ms=${summary.max_ms.toFixed(3)} runs=${runs}\n`);
}

// ---- eval

// A gzipped (by its magic 1f 8b) or raw IDX file, validated: magic, dimensions, exact size.
function readIdx(file, kind) {
  let bytes = readFile(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (e) {
      fail(`'${file}': bad gzip data: ${e.message}`);
    }
  }
  const images = kind === 'images';
  const magic = images ? 0x00000803 : 0x00000801;
  const header = images ? 16 : 8;
  if (bytes.length < header) fail(`'${file}': ${bytes.length} bytes, too short for an IDX ${kind} header`);
  const got = bytes.readUInt32BE(0);
  if (got !== magic) {
    fail(`'${file}': IDX magic 0x${got.toString(16).padStart(8, '0')}, expected ` +
         `0x${magic.toString(16).padStart(8, '0')} (unsigned bytes, ${images ? 3 : 1} dimension(s))`);
  }
  const count = bytes.readUInt32BE(4);
  const height = images ? bytes.readUInt32BE(8) : 1;
  const width = images ? bytes.readUInt32BE(12) : 1;
  if (images && (height < 1 || width < 1 || height > 32768 || width > 32768)) {
    fail(`'${file}': image size ${height}x${width} out of range [1, 32768]`);
  }
  const expected = header + count * height * width;
  if (bytes.length !== expected) {
    fail(`'${file}': ${bytes.length} bytes, the header (${count} ${kind}` +
         `${images ? ` of ${height}x${width}` : ''}) needs ${expected}`);
  }
  return { count, height, width, data: bytes.subarray(header) };
}

const f32 = Math.fround;

// The pixels of one 8-bit gray image (height x width) resized to size x size and normalized
// into `out` (NCHW, `channels` planes), replicating runtime/src/image.cc step by step: bilinear
// with half-pixel centres (PyTorch's interpolate, align_corners=false), the source coordinate
// clamped at 0 below and the neighbour index at the last row/column above, gray replicated to
// every channel, v = (p / 255 - mean[c]) / std[c]. Every operation is rounded to float32
// (Math.fround) as the C++ float arithmetic is, so the tensor matches libgnrt's bit for bit on
// x86-64 builds (which do not contract to FMA; an aarch64 build may differ in the last bit).
function resizeNormalize(pixels, height, width, size, channels, mean, std, out) {
  const scaleY = f32(height / size);
  const scaleX = f32(width / size);
  const plane = size * size;
  for (let y = 0; y < size; ++y) {
    const sy = Math.max(0, f32(f32(f32(y + 0.5) * scaleY) - 0.5));
    const y0 = Math.min(Math.trunc(sy), height - 1);
    const y1 = Math.min(y0 + 1, height - 1);
    const fy = f32(sy - y0);
    for (let x = 0; x < size; ++x) {
      const sx = Math.max(0, f32(f32(f32(x + 0.5) * scaleX) - 0.5));
      const x0 = Math.min(Math.trunc(sx), width - 1);
      const x1 = Math.min(x0 + 1, width - 1);
      const fx = f32(sx - x0);
      const p00 = pixels[y0 * width + x0];
      const p01 = pixels[y0 * width + x1];
      const p10 = pixels[y1 * width + x0];
      const p11 = pixels[y1 * width + x1];
      const top = f32(p00 + f32((p01 - p00) * fx));
      const bottom = f32(p10 + f32((p11 - p10) * fx));
      const gray = f32(top + f32(f32(bottom - top) * fy));
      for (let c = 0; c < channels; ++c) {
        out[c * plane + y * size + x] = f32(f32(f32(gray / 255) - mean[c]) / std[c]);
      }
    }
  }
}

// Index of the largest value; NaN loses to any number (as tools/cli_common.cc's argmax).
function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; ++i) {
    if (Number.isNaN(values[best]) ? !Number.isNaN(values[i]) : values[i] > values[best]) best = i;
  }
  return best;
}

async function cmdEval(argv) {
  const flags = parseFlags(argv, ['model', 'images', 'labels', 'limit', 'size', 'threads', 'dump-input']);
  require_flags(flags, ['model']);
  if ((flags.images === undefined) !== (flags.labels === undefined)) {
    fail('--images and --labels go together');
  }
  const imagesPath = flags.images || `${FASHION_MNIST}/t10k-images-idx3-ubyte.gz`;
  const labelsPath = flags.labels || `${FASHION_MNIST}/t10k-labels-idx1-ubyte.gz`;
  const limit = intFlag(flags, 'limit', 0, 1, 2147483647);
  const threads = intFlag(flags, 'threads', 1, 1, 256);
  const info = readModelInfo(flags.model);
  const channels = inputChannels(info, flags.model);
  const mean = metaFloats(info, flags.model, 'gnrt.mean', channels).map(f32);
  const std = metaFloats(info, flags.model, 'gnrt.std', channels).map(f32);
  if (std.some((s) => s === 0)) fail(`'${flags.model}': metadata 'gnrt.std' has a zero`);
  const size = flags.size !== undefined ? intFlag(flags, 'size', 0, 1, MAX_SIZE)
                                        : metaInt(info, flags.model, 'gnrt.default_height', undefined, 1, MAX_SIZE);
  const images = readIdx(imagesPath, 'images');
  const labels = readIdx(labelsPath, 'labels');
  if (images.count !== labels.count) {
    fail(`'${imagesPath}' has ${images.count} images but '${labelsPath}' has ${labels.count} labels`);
  }
  const count = limit > 0 ? Math.min(limit, images.count) : images.count;
  if (count === 0) fail(`'${imagesPath}': the dataset is empty`);

  const ort = loadOrt();
  const session = await createSession(ort, flags.model, threads);
  const shape = [1, channels, size, size];
  const input = new Float32Array(channels * size * size);
  const pixelsPerImage = images.height * images.width;
  const step = Math.max(1, Math.floor(count / 10));
  const start = process.hrtime.bigint();
  let correct = 0;
  for (let i = 0; i < count; ++i) {
    const pixels = images.data.subarray(i * pixelsPerImage, (i + 1) * pixelsPerImage);
    resizeNormalize(pixels, images.height, images.width, size, channels, mean, std, input);
    if (i === 0 && flags['dump-input'] !== undefined) {
      writeAtomically(flags['dump-input'], Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    }
    const feeds = {};
    feeds[session.inputNames[0]] = new ort.Tensor('float32', input, shape);
    const results = await runOnce(session, feeds);
    const output = results[session.outputNames[0]].data;
    const label = labels.data[i];
    if (label >= output.length) {
      fail(`'${labelsPath}': label ${label} of item ${i} is out of range for a model with ` +
           `${output.length} outputs`);
    }
    if (argmax(output) === label) ++correct;
    if ((i + 1) % step === 0 || i + 1 === count) {
      process.stderr.write(`ort.js eval: ${i + 1}/${count} images, accuracy so far ` +
                           `${(correct / (i + 1)).toFixed(4)}\n`);
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`dataset: ${imagesPath} (${count} of ${images.count} images, ` +
                       `${images.height}x${images.width})\n`);
  process.stdout.write(`input: ${channels}x${size}x${size}\n`);
  process.stdout.write(`precision: ${info.metadata['gnrt.precision'] || 'unknown'}\n`);
  process.stdout.write(`time: ${seconds.toFixed(3)} s (${(count / seconds).toFixed(1)} images/s)\n`);
  process.stdout.write(`accuracy=${(correct / count).toFixed(4)} n=${count}\n`);
}

// ---- ops

function cmdOps(argv) {
  const flags = parseFlags(argv, ['model'], ['json']);
  require_flags(flags, ['model']);
  const info = readModelInfo(flags.model);
  const counts = new Map();
  for (const node of info.ops) {
    const name = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType;
    counts.set(name, (counts.get(name) || 0) + 1);
  }
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (flags.json) {
    const out = {
      model: flags.model, ir_version: info.irVersion, opsets: info.opsets, nodes: info.ops.length,
      ops: Object.fromEntries(rows), metadata: info.metadata,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const opsets = info.opsets.map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(' ');
  process.stdout.write(`model=${flags.model} ir_version=${info.irVersion} opsets=${opsets} ` +
                       `nodes=${info.ops.length}\n`);
  for (const [name, count] of rows) process.stdout.write(`${String(count).padStart(6)} ${name}\n`);
  for (const key of Object.keys(info.metadata).sort()) {
    process.stdout.write(`meta ${key}=${info.metadata[key]}\n`);
  }
}

const commands = { run: cmdRun, bench: cmdBench, eval: cmdEval, ops: cmdOps };

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || !commands[command]) {
    fail(`usage: ort.js ${Object.keys(commands).join('|')} --flag value ... (got '${command || ''}')`);
  }
  await commands[command](rest);
}

main().catch((e) => fail(e.stack || String(e)));
