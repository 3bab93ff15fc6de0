#!/usr/bin/python3
"""A tiny conv net as ONNX (opset 13) with the gnrt metadata of the shared ONNX contract, plus
what ort.js must reproduce: expected Fashion-MNIST predictions computed here independently in
NumPy (resize and normalization written after runtime/src/image.cc, float32 throughout).

  make_tiny_onnx.py OUT_DIR [--images GZ --labels GZ] [--count N] [--size S]

Writes OUT_DIR/tiny.onnx, OUT_DIR/tiny-nometa.onnx (no gnrt.mean), OUT_DIR/images.gz (the first
N test images), OUT_DIR/predicted-labels.gz (IDX labels: NumPy's argmax on them, so ort.js eval
must report 1.0000), OUT_DIR/expected.txt ("accuracy=0.XXXX n=N" against the true labels) and
OUT_DIR/expected-input0.f32 (image 0 resized and normalized, raw float32, for eval --dump-input)
and OUT_DIR/image0.u8 (its raw pixels). --mean/--std set the normalization (metadata and NumPy).
"""
import argparse
import gzip
import os
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MEAN, STD = 0.2860, 0.3530
CLASSES = 10


def weights():
    rng = np.random.default_rng(7)
    w1 = rng.normal(0, 0.5, (6, 1, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 6).astype(np.float32)
    w2 = rng.normal(0, 0.3, (8, 6, 3, 3)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 8).astype(np.float32)
    fc = rng.normal(0, 0.5, (CLASSES, 8)).astype(np.float32)
    fb = rng.normal(0, 0.1, CLASSES).astype(np.float32)
    return w1, b1, w2, b2, fc, fb


def build(with_mean, fc, fb):
    w1, b1, w2, b2, _, _ = weights()
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (fc, "fc"), (fb, "fb")]]
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fc", "fb"], ["output"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, "height", "width"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, CLASSES])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="gnrt-tests")
    model.ir_version = 7
    meta = {"gnrt.std": repr(STD), "gnrt.input_channels": "1", "gnrt.default_height": "48",
            "gnrt.default_width": "48", "gnrt.labels": ",".join(f"c{i}" for i in range(CLASSES)),
            "gnrt.source": "tiny.gnrt", "gnrt.precision": "fp32"}
    if with_mean:
        meta["gnrt.mean"] = repr(MEAN)
    onnx.helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    return model


def read_idx(path, magic, header):
    data = gzip.open(path).read()
    assert struct.unpack(">I", data[:4])[0] == magic
    count = struct.unpack(">I", data[4:8])[0]
    if header == 16:
        h, w = struct.unpack(">II", data[8:16])
        return np.frombuffer(data[16:], np.uint8).reshape(count, h, w)
    return np.frombuffer(data[8:], np.uint8)


def resize(img, size):
    """image.cc's bilinear with half-pixel centres, in float32."""
    f = np.float32
    h, w = img.shape
    sy = np.maximum(f(0), (np.arange(size, dtype=f) + f(0.5)) * f(f(h) / f(size)) - f(0.5))
    sx = np.maximum(f(0), (np.arange(size, dtype=f) + f(0.5)) * f(f(w) / f(size)) - f(0.5))
    y0 = np.minimum(sy.astype(np.int64), h - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    x0 = np.minimum(sx.astype(np.int64), w - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    fy = (sy - y0.astype(f))[:, None]
    fx = (sx - x0.astype(f))[None, :]
    p = img.astype(f)
    p00, p01 = p[y0][:, x0], p[y0][:, x1]
    p10, p11 = p[y1][:, x0], p[y1][:, x1]
    top = p00 + (p01 - p00) * fx
    bottom = p10 + (p11 - p10) * fx
    gray = top + (bottom - top) * fy
    return ((gray / f(255) - f(MEAN)) / f(STD)).astype(f)


def conv(x, w, b, stride):
    c, h, wd = x.shape
    k = w.shape[0]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    oh, ow = (h + 2 - 3) // stride + 1, (wd + 2 - 3) // stride + 1
    out = np.zeros((k, oh, ow), np.float64)
    for dy in range(3):
        for dx in range(3):
            patch = xp[:, dy:dy + stride * oh:stride, dx:dx + stride * ow:stride]
            out += np.einsum("kc,chw->khw", w[:, :, dy, dx].astype(np.float64), patch)
    return out + b[:, None, None]


def features(x):
    """The 8 pooled features before the Gemm (float64)."""
    w1, b1, w2, b2, _, _ = weights()
    r1 = np.maximum(conv(x[None], w1, b1, 1), 0)
    c, h, w = r1.shape
    p1 = r1[:, :h // 2 * 2, :w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))
    r2 = np.maximum(conv(p1, w2, b2, 2), 0)
    return r2.mean(axis=(1, 2))


def main():
    global MEAN, STD
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--images", default="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
    ap.add_argument("--labels", default="/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--mean", type=float, default=0.2860)
    ap.add_argument("--std", type=float, default=0.3530)
    args = ap.parse_args()
    MEAN, STD = args.mean, args.std
    os.makedirs(args.out, exist_ok=True)
    images = read_idx(args.images, 0x803, 16)[:args.count]
    labels = read_idx(args.labels, 0x801, 8)[:args.count]
    inputs = [resize(img, args.size) for img in images]
    feats = np.array([features(x) for x in inputs])
    # Centre and scale the logits on these images so that the predictions spread over the
    # classes and depend on the pixels (random weights alone predict one class everywhere).
    fc = weights()[4].astype(np.float64)
    scale = (1.0 / (feats.std(axis=0) + 1e-6)).astype(np.float32)
    fc_scaled = (fc * scale[None, :]).astype(np.float32)
    fb = (-fc_scaled.astype(np.float64) @ feats.mean(axis=0)).astype(np.float32)
    onnx.save(build(True, fc_scaled, fb), os.path.join(args.out, "tiny.onnx"))
    onnx.save(build(False, fc_scaled, fb), os.path.join(args.out, "tiny-nometa.onnx"))
    inputs[0].astype("<f4").tofile(os.path.join(args.out, "expected-input0.f32"))
    images[0].tofile(os.path.join(args.out, "image0.u8"))
    data = gzip.open(args.images).read()
    h, w = images.shape[1:]
    with gzip.open(os.path.join(args.out, "images.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(images), h, w) + data[16:16 + len(images) * h * w])
    predicted, margins = [], []
    for feat in feats:
        logits = fc_scaled.astype(np.float64) @ feat + fb
        order = np.sort(logits)
        margins.append(order[-1] - order[-2])
        predicted.append(int(np.argmax(logits)))
    predicted = np.array(predicted, np.uint8)
    with gzip.open(os.path.join(args.out, "predicted-labels.gz"), "wb") as f:
        f.write(struct.pack(">II", 0x801, len(predicted)) + predicted.tobytes())
    accuracy = float(np.mean(predicted == labels))
    with open(os.path.join(args.out, "expected.txt"), "w") as f:
        f.write(f"accuracy={accuracy:.4f} n={len(labels)}\n")
    print(f"accuracy={accuracy:.4f} n={len(labels)} smallest top-2 margin {min(margins):.2e} "
          f"distinct predictions {len(set(predicted.tolist()))}")


if __name__ == "__main__":
    main()
