#!/usr/bin/env node
// Test helper for converter_onnx_export_test: runs many images through one ONNX Runtime session
// (bench/ort/ort.js runs one image per process).
//
//   node ort_many.js --model M.onnx --input IN.f32 --shape 1,C,H,W --output OUT.f32
//
// IN.f32 holds N input tensors back to back (raw little-endian float32, NCHW); OUT.f32 receives
// the N outputs back to back. Fails (exit 1, "ort_many.js: ..." on stderr) when onnxruntime-node
// is not installed in bench/ort/node_modules.
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
  process.stderr.write(`ort_many.js: ${message}\n`);
  process.exit(1);
}

function flags(argv) {
  const out = {};
  for (let i = 0; i + 1 < argv.length; i += 2) {
    if (!argv[i].startsWith('--')) fail(`unexpected argument '${argv[i]}'`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const name of ['model', 'input', 'shape', 'output']) {
    if (out[name] === undefined) fail(`missing --${name}`);
  }
  return out;
}

async function main() {
  const f = flags(process.argv.slice(2));
  const ortDir = path.resolve(__dirname, '../../bench/ort/node_modules/onnxruntime-node');
  let ort;
  try {
    ort = require(ortDir);
  } catch (e) {
    fail(`onnxruntime-node is not installed in ${ortDir} (run scripts/install-deps.sh): ` +
         e.message);
  }
  const shape = f.shape.split(',').map(Number);
  const per = shape.reduce((a, b) => a * b, 1);
  const bytes = fs.readFileSync(f.input);
  if (bytes.length % (4 * per) !== 0) fail(`'${f.input}' is not a whole number of inputs`);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const session = await ort.InferenceSession.create(f.model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const chunks = [];
  for (let n = 0; n < all.length / per; ++n) {
    const input = new ort.Tensor('float32', all.slice(n * per, (n + 1) * per), shape);
    const result = await session.run({ [session.inputNames[0]]: input });
    const data = result[session.outputNames[0]].data;
    chunks.push(Buffer.from(new Float32Array(data).buffer));
  }
  fs.writeFileSync(f.output, Buffer.concat(chunks));
}

main().catch((e) => fail(e.message));
