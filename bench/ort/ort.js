#!/usr/bin/env node
// ONNX Runtime (CPU, the npm package onnxruntime-node) as gnrt's peer engine, for tests and
// benchmarks. Subcommands:
//
//   node ort.js run --model M.onnx --input IN.f32 --shape 1,1,H,W --output OUT.f32 [--threads N]
//     one inference of the model's first input; IN.f32 holds the input tensor as raw
//     little-endian float32 (NCHW), OUT.f32 receives the first output the same way.
//
// Errors (a missing file, a model ORT refuses, a wrong input size, an unknown flag) print
// "ort.js: <message>" on stderr and exit 1. Installed by scripts/install-deps.sh
// (npm ci --ignore-scripts in this folder).
'use strict';

const fs = require('fs');
const path = require('path');

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

// --key value pairs; every key must be in `allowed`.
function parseFlags(argv, allowed) {
  const flags = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    if (!key.startsWith('--') || !allowed.includes(key.slice(2))) fail(`unknown flag '${key}'`);
    if (i + 1 >= argv.length) fail(`flag '${key}' needs a value`);
    flags[key.slice(2)] = argv[i + 1];
  }
  return flags;
}

function require_flags(flags, names) {
  for (const name of names) {
    if (flags[name] === undefined) fail(`missing --${name}`);
  }
}

function parseShape(text) {
  const dims = text.split(',').map((d) => Number(d));
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    fail(`bad --shape '${text}' (expected positive integers separated by commas)`);
  }
  return dims;
}

function readFloats(file) {
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    fail(`cannot read '${file}': ${e.message}`);
  }
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

async function createSession(ort, model, threads) {
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  try {
    return await ort.InferenceSession.create(model, options);
  } catch (e) {
    fail(`ONNX Runtime cannot load '${model}': ${e.message}`);
  }
  return null;
}

async function cmdRun(argv) {
  const flags = parseFlags(argv, ['model', 'input', 'shape', 'output', 'threads']);
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
  const session = await createSession(ort, flags.model, threads);
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', data, shape);
  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    fail(`inference failed: ${e.message}`);
  }
  const output = results[session.outputNames[0]].data;
  const buffer = Buffer.alloc(4 * output.length);
  for (let i = 0; i < output.length; ++i) buffer.writeFloatLE(output[i], 4 * i);
  writeAtomically(flags.output, buffer);
}

const commands = { run: cmdRun };

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || !commands[command]) {
    fail(`usage: ort.js ${Object.keys(commands).join('|')} --flag value ... (got '${command || ''}')`);
  }
  await commands[command](rest);
}

main().catch((e) => fail(e.stack || String(e)));
