#!/usr/bin/python3
"""Builds ONNX models for the ONNX import tests (test_onnx_import.cc).

Usage: make_onnx_models.py OUTDIR

Writes into OUTDIR:
  googlenet.onnx  torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True,
                  transform_input=False), pruned with torch.nn.utils.prune.global_unstructured
                  (L1Unstructured, 90 % of all Conv2d and Linear weights) and prune.remove, then
                  exported by torch.onnx.export (opset 13, input "input" [1, 3, height, width],
                  output "output") with gnrt.* metadata_props (default size SIZE);
  googlenet.SIZE.in.f32 / googlenet.SIZE.torch.f32  a random input and torch's logits in eval
                  mode, raw little-endian float32, at SIZE and at SMALL;
  gray.onnx       a 10-class 1-channel torchvision GoogLeNet, half pruned, default size 48, with
                  gray.in.f32 / gray.torch.f32 (for --checkpoint);
  ops.onnx        a small graph made with onnx.helper using every supported operator (Conv + BN
                  + Relu, SAME_UPPER, MaxPool ceil_mode, AveragePool, Concat, Dropout, Identity,
                  GlobalAveragePool, Constant + Reshape, MatMul + Add + Relu, Gemm, Softmax);
  leaky.onnx, grouped.onnx, dilated.onnx, missing.onnx, mismatch.onnx  graphs gnrt cannot import;
  meta.json       sizes and weight counts.

torchvision's init leaves activations vanishing through 57 unnormalized layers, so after pruning
the BatchNorm statistics are estimated on random batches (train mode) and the classifier is scaled
so that the logits are about ten units: the tests' relative bound (1e-4 x max(1, |logit|)) is then
a real check.
"""
import json
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import torch
    import torch.nn.utils.prune as prune
    import torchvision
except ImportError as e:  # the test reports this line
    sys.exit("make_onnx_models.py: needs torch, torchvision and onnx "
             "(apt-get install python3-torch python3-torchvision python3-onnx): %s" % e)

SIZE = 224
SMALL = 96
GRAY = 48


def googlenet(out):
    torch.manual_seed(16)
    model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True,
                                         transform_input=False)
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    prune.global_unstructured([(m, "weight") for m in layers],
                              pruning_method=prune.L1Unstructured, amount=0.9)
    for m in layers:
        prune.remove(m, "weight")
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(2):
            model(torch.randn(4, 3, 112, 112))
        model.eval()
        logits = model(torch.randn(4, 3, 112, 112))
        scale = 3.0 / float(logits.std())
        model.fc.weight.mul_(scale)
        model.fc.bias.mul_(scale)
    weights = sum(m.weight.numel() for m in layers)
    nonzeros = sum(int((m.weight != 0).sum()) for m in layers)

    path = os.path.join(out, "googlenet.onnx")
    example = torch.randn(1, 3, SIZE, SIZE)
    torch.onnx.export(model, example, path, opset_version=13, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {2: "height", 3: "width"}})
    m = onnx.load(path)
    props = {"gnrt.mean": "0.485,0.456,0.406", "gnrt.std": "0.229,0.224,0.225",
             "gnrt.input_channels": "3", "gnrt.default_height": str(SIZE),
             "gnrt.default_width": str(SIZE),
             "gnrt.labels": ",".join("class%d" % i for i in range(1000)),
             "gnrt.source": "torchvision googlenet (pruned 90 %)"}
    for k, v in props.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(m, path)

    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for size in (SIZE, SMALL):
            x = torch.randn(1, 3, size, size, generator=gen)
            y = model(x)
            x.numpy().astype("<f4").tofile(os.path.join(out, "googlenet.%d.in.f32" % size))
            y.numpy().astype("<f4").tofile(os.path.join(out, "googlenet.%d.torch.f32" % size))
    return {"weights": weights, "nonzeros": nonzeros, "classes": 1000}


def gray_googlenet(out):
    """A 10-class, 1-channel torchvision GoogLeNet (conv1 replaced, as gn-convert's TorchScript
    import tests do), half its weights zeroed by prune.l1_unstructured, BatchNorm statistics
    estimated on random batches; exported at 48x48 for the --checkpoint tests."""
    from torchvision.models.googlenet import BasicConv2d
    torch.manual_seed(17)
    model = torchvision.models.googlenet(weights=None, num_classes=10, aux_logits=False,
                                         init_weights=True, transform_input=False)
    model.conv1 = BasicConv2d(1, 64, kernel_size=7, stride=2, padding=3)
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            prune.l1_unstructured(m, "weight", amount=0.5)
            prune.remove(m, "weight")
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None
        model.train()
        for _ in range(2):
            model(torch.randn(8, 1, GRAY, GRAY))
        model.eval()
        scale = 3.0 / float(model(torch.randn(8, 1, GRAY, GRAY)).std())
        model.fc.weight.mul_(scale)
        model.fc.bias.mul_(scale)
    path = os.path.join(out, "gray.onnx")
    torch.onnx.export(model, torch.randn(1, 1, GRAY, GRAY), path, opset_version=13,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {2: "height", 3: "width"}})
    m = onnx.load(path)
    for k, v in {"gnrt.mean": "0.286", "gnrt.std": "0.353", "gnrt.default_height": str(GRAY),
                 "gnrt.default_width": str(GRAY)}.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(m, path)
    x = torch.randn(1, 1, GRAY, GRAY, generator=torch.Generator().manual_seed(9))
    x.numpy().astype("<f4").tofile(os.path.join(out, "gray.in.f32"))
    with torch.no_grad():
        model(x).numpy().astype("<f4").tofile(os.path.join(out, "gray.torch.f32"))


def tensor(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def save(graph, path, meta=None):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    for k, v in (meta or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, path)


def image_input(channels=3):
    return helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                         [1, channels, "height", "width"])


def ops_model(out):
    r = np.random.default_rng(7)
    n = lambda *s: r.standard_normal(s).astype(np.float32)
    inits = [
        tensor("c1.w", n(8, 3, 3, 3) * (r.random((8, 3, 3, 3)) > 0.5)),  # half the weights zero
        tensor("c1.b", n(8)),
        tensor("bn.scale", 0.5 + r.random(8)), tensor("bn.bias", n(8) * 0.2),
        tensor("bn.mean", n(8) * 0.3), tensor("bn.var", 0.5 + r.random(8)),
        tensor("c2.w", n(8, 8, 3, 3) * 0.3),
        tensor("c3.w", n(8, 8, 1, 1) * 0.5), tensor("c3.b", n(8)),
        tensor("mm.w", n(16, 10)), tensor("mm.b", n(10)),
        tensor("fc.w", n(10, 5)), tensor("fc.b", n(5)),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "c1.w", "c1.b"], ["c1"], name="c1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn.scale", "bn.bias", "bn.mean", "bn.var"],
                         ["bn"], name="bn", epsilon=1e-3),
        helper.make_node("Relu", ["bn"], ["r1"], name="r1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="p1", kernel_shape=[2, 2],
                         strides=[2, 2], ceil_mode=1),
        helper.make_node("Conv", ["p1", "c2.w"], ["c2"], name="c2", auto_pad="SAME_UPPER"),
        helper.make_node("Relu", ["c2"], ["r2"], name="r2"),
        helper.make_node("AveragePool", ["p1"], ["a1"], name="a1", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["a1", "c3.w", "c3.b"], ["c3"], name="c3"),
        helper.make_node("Concat", ["r2", "c3"], ["cat"], name="cat", axis=1),
        helper.make_node("AveragePool", ["cat"], ["a2"], name="a2", kernel_shape=[2, 2],
                         strides=[2, 2], count_include_pad=1),
        helper.make_node("Dropout", ["a2"], ["d1"], name="drop"),
        helper.make_node("Identity", ["d1"], ["i1"], name="id"),
        helper.make_node("GlobalAveragePool", ["i1"], ["g"], name="gap"),
        helper.make_node("Constant", [], ["shape"], name="shape",
                         value=numpy_helper.from_array(np.array([1, -1], dtype=np.int64))),
        helper.make_node("Reshape", ["g", "shape"], ["flat"], name="reshape"),
        helper.make_node("MatMul", ["flat", "mm.w"], ["mm"], name="mm"),
        helper.make_node("Add", ["mm", "mm.b"], ["mmb"], name="mm_bias"),
        helper.make_node("Relu", ["mmb"], ["r3"], name="r3"),
        helper.make_node("Gemm", ["r3", "fc.w", "fc.b"], ["fc"], name="fc", alpha=0.5, beta=2.0),
        helper.make_node("Softmax", ["fc"], ["output"], name="softmax"),
    ]
    graph = helper.make_graph(nodes, "ops", [image_input()],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 5])],
                              inits)
    save(graph, os.path.join(out, "ops.onnx"),
         {"gnrt.default_height": "16", "gnrt.default_width": "16",
          "gnrt.labels": "a,b,c,d,e"})
    r2 = np.random.default_rng(8)
    for size in (16, 15):
        r2.standard_normal((1, 3, size, size)).astype("<f4").tofile(
            os.path.join(out, "ops.%d.in.f32" % size))


def broken_models(out):
    w = tensor("w", np.ones((4, 3, 3, 3)))
    wg = tensor("wg", np.ones((4, 1, 3, 3)))
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, "h", "w"])

    def one(name, nodes, inits, outputs=None):
        graph = helper.make_graph(nodes, name, [image_input()], outputs or [output], inits)
        save(graph, os.path.join(out, name + ".onnx"))

    one("leaky", [helper.make_node("Conv", ["input", "w"], ["c"], name="conv"),
                  helper.make_node("LeakyRelu", ["c"], ["output"], name="leaky_1", alpha=0.1)],
        [w])
    one("grouped", [helper.make_node("Conv", ["input", "wg"], ["output"], name="grouped_conv",
                                     group=3)], [wg])
    one("dilated", [helper.make_node("Conv", ["input", "w"], ["output"], name="dilated_conv",
                                     dilations=[2, 2])], [w])
    # A weight that is neither an initializer nor produced by a node (the checker accepts a
    # second graph input, so it is declared as one, then dropped from the inputs below).
    graph = helper.make_graph([helper.make_node("Conv", ["input", "w_missing"], ["output"],
                                                name="conv_missing")],
                              "missing", [image_input()], [output], [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, os.path.join(out, "missing.onnx"))
    fc_out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 5])
    one("mismatch", [helper.make_node("Conv", ["input", "w"], ["c"], name="conv"),
                     helper.make_node("GlobalAveragePool", ["c"], ["g"], name="gap"),
                     helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
                     helper.make_node("Gemm", ["f", "fcw"], ["output"], name="fc_bad",
                                      transB=1)],
        [w, tensor("fcw", np.ones((5, 7)))], [fc_out])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_onnx_models.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    meta = {"size": SIZE, "small": SMALL, "gray": GRAY}
    meta["googlenet"] = googlenet(out)
    gray_googlenet(out)
    ops_model(out)
    broken_models(out)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("ok", json.dumps(meta))


if __name__ == "__main__":
    main()
