#!/usr/bin/env python3
"""PyTorch eager baseline for `flatminima bench`: training throughput (images/s) of the CIFAR-style ResNet-18 of
FlatMinima.Torch (same architecture, same loop: SGD lr 0.01, momentum 0.9, weight decay 5e-4, cross-entropy, random
3x32x32 inputs and 10 classes, warm-up steps excluded, clock stopped after torch.cuda.synchronize()).

usage: python3 torch_resnet18.py [--batch-size 256] [--steps 50] [--warmup 10] [--modes fp32,bf16cl] [--out FILE]
modes: fp32 (plain eager), fp32sync (loss.item() each step), fp32cl (channels-last), bf16cl (bf16 autocast +
channels-last: PyTorch's fastest eager recipe), bf16 (autocast only). cudnn.benchmark stays at PyTorch's default
(False) unless --cudnn-benchmark, because TorchSharp 0.107 cannot set it.
"""
import argparse, json, platform, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class ResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(64)
        blocks, c = [], 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            blocks += [BasicBlock(c, cout, stride), BasicBlock(cout, cout, 1)]
            c = cout
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn(self.stem(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def run(mode, batch, steps, warmup, seed=0):
    torch.manual_seed(seed)
    dev = torch.device("cuda")
    model = ResNet18().to(dev)
    cl = mode.endswith("cl")
    bf16 = mode.startswith("bf16")
    sync = mode == "fp32sync"
    if cl:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, 3, 32, 32, device=dev)
    if cl:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=dev)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if sync:
            loss.item()

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    secs = time.perf_counter() - t
    return {"mode": mode, "batch_size": batch, "steps": steps, "warmup": warmup, "seconds": secs, "images_per_s": steps * batch / secs}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--modes", default="fp32,fp32sync,fp32cl,bf16,bf16cl")
    p.add_argument("--cudnn-benchmark", action="store_true")
    p.add_argument("--out")
    a = p.parse_args()
    torch.backends.cudnn.benchmark = a.cudnn_benchmark
    res = []
    for m in a.modes.split(","):
        r = run(m, a.batch_size, a.steps, a.warmup)
        print(f"pytorch {m}: {r['images_per_s']:.0f} images/s", file=sys.stderr, flush=True)
        res.append(r)
    out = {"baseline": "pytorch_eager", "results": res, "torch": torch.__version__, "cuda": torch.version.cuda,
           "cudnn": torch.backends.cudnn.version(), "gpu": torch.cuda.get_device_name(0), "cudnn_benchmark": a.cudnn_benchmark,
           "allow_tf32_cudnn": torch.backends.cudnn.allow_tf32, "allow_tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
           "python": platform.python_version(), "argv": sys.argv}
    s = json.dumps(out, indent=2)
    if a.out:
        open(a.out, "w").write(s)
    print(s)


if __name__ == "__main__":
    main()
