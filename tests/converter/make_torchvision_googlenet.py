#!/usr/bin/python3
"""Builds torchvision GoogLeNets saved as TorchScript for the import tests (test_import.cc).

Usage: make_torchvision_googlenet.py OUTDIR

Writes into OUTDIR:
  gray.pt   torchvision.models.googlenet(num_classes=10, aux_logits=True, transform_input=False)
            with conv1 replaced by a 1-channel BasicConv2d (torchvision's conv1 takes 3 channels;
            this is how a grayscale model is made), saved with torch.jit.script;
  rgb.pt    googlenet(num_classes=10, aux_logits=False, transform_input=True), 3 channels, saved
            with torch.jit.trace;
  five.pt   gray.pt with inception3a's third branch a true 5x5 (not torchvision's layout);
  other.pt  a scripted module that is not a GoogLeNet;
  NAME.in.bin / NAME.out.bin   float32 inputs (N x C x 48 x 48) and the module's logits in eval
            mode (N x 10), raw little-endian;
  meta.json shapes and torchvision's transform_input constants.

Weights are not torchvision's init: convolutions are He-normal so that signals survive 60 layers,
BatchNorm statistics are estimated on random batches and then perturbed, and the BatchNorm affine
parameters are random, so that BatchNorm folding is really exercised.
"""
import json
import os
import sys

try:
    import torch
    import torchvision
    from torchvision.models.googlenet import BasicConv2d
except ImportError as e:  # the test reports this line
    sys.exit("make_torchvision_googlenet.py: needs torch and torchvision "
             "(apt-get install python3-torch python3-torchvision): %s" % e)

SIZE = 48
IMAGES = 4


def randomize(model, channels, generator):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):  # He-normal (fan-in), from our generator
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) *
                               (2.0 / fan_in) ** 0.5)
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(2):
            model(torch.randn(8, channels, SIZE, SIZE, generator=generator))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                std = m.running_var.sqrt()
                m.running_mean += 0.2 * std * torch.randn(n, generator=generator)
                m.running_var *= 0.6 + 0.8 * torch.rand(n, generator=generator)
                m.weight.copy_(0.5 + torch.rand(n, generator=generator))
                m.bias.copy_(0.4 * torch.rand(n, generator=generator) - 0.2)
                m.momentum = 0.1
        # Logits of about ten units, so that the relative bound of the tests (1e-4 x max(1,
        # largest |logit|)) is not loose.
        model.fc.weight.copy_(torch.randn(model.fc.weight.shape, generator=generator))
        model.fc.bias.copy_(2.0 * torch.rand(model.fc.bias.shape, generator=generator) - 1.0)
        model.eval()
        probe = logits(model(torch.randn(4, channels, SIZE, SIZE, generator=generator)))
        model.fc.weight.mul_(8.0 / float(probe.abs().max()))
    model.eval()


def logits(output):
    # Scripted GoogLeNets return GoogLeNetOutputs even in eval mode; traced ones a tensor.
    return output if isinstance(output, torch.Tensor) else output[0]


def save_io(outdir, name, module, inputs):
    with torch.no_grad():
        out = logits(module(inputs)).contiguous()
    inputs.contiguous().numpy().astype("<f4").tofile(os.path.join(outdir, name + ".in.bin"))
    out.numpy().astype("<f4").tofile(os.path.join(outdir, name + ".out.bin"))
    return {"file": name + ".pt", "inputs": list(inputs.shape), "outputs": list(out.shape),
            "largest_abs_logit": float(out.abs().max())}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_torchvision_googlenet.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(5)  # torchvision's own init (trunc_normal_) draws from the global generator
    g = torch.Generator().manual_seed(20240611)
    meta = {"torch": torch.__version__, "torchvision": torchvision.__version__, "size": SIZE}

    gray = torchvision.models.googlenet(weights=None, num_classes=10, aux_logits=True,
                                        transform_input=False, init_weights=True)
    gray.conv1 = BasicConv2d(1, 64, kernel_size=7, stride=2, padding=3)
    randomize(gray, 1, g)
    scripted = torch.jit.script(gray)
    scripted.save(os.path.join(outdir, "gray.pt"))
    meta["gray"] = save_io(outdir, "gray", scripted, torch.randn(IMAGES, 1, SIZE, SIZE, generator=g))

    rgb = torchvision.models.googlenet(weights=None, num_classes=10, aux_logits=False,
                                       transform_input=True, init_weights=True)
    randomize(rgb, 3, g)
    example = torch.randn(IMAGES, 3, SIZE, SIZE, generator=g)
    traced = torch.jit.trace(rgb, example)
    traced.save(os.path.join(outdir, "rgb.pt"))
    meta["rgb"] = save_io(outdir, "rgb", traced, example)
    # transform_input: x_c -> x_c * scale_c + shift_c (torchvision's _transform_input).
    meta["transform_scale"] = [0.229 / 0.5, 0.224 / 0.5, 0.225 / 0.5]
    meta["transform_shift"] = [(0.485 - 0.5) / 0.5, (0.456 - 0.5) / 0.5, (0.406 - 0.5) / 0.5]

    gray.inception3a.branch3[1] = BasicConv2d(16, 32, kernel_size=5, padding=2)
    gray.eval()
    torch.jit.script(gray).save(os.path.join(outdir, "five.pt"))

    other = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU())
    torch.jit.script(other).save(os.path.join(outdir, "other.pt"))

    with open(os.path.join(outdir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)


if __name__ == "__main__":
    main()
