"""AMNet epoch time: training on cached layer3 maps vs running the frozen ResNet-152 every step.

Both epochs run in this process on the same images with the same AMNet head (14×14 grid, the
original L=196 with the paper's D=512, H=1024 and with D=128, H=256; and the notebook's quick setup:
7×7 pooled maps, L=49, D=128, H=256), batch size and optimiser, after one untimed warm-up step; the baseline decodes, preprocesses and runs the CNN to
layer3 for every batch (what the original training loop did), the cached run reads the maps that
:class:`labkit.data.feature_cache.FeatureCache` computed once (the one-off cost is printed too).

    PYTHONPATH=. python benchmarks/amnet_cache_speed.py --images 32 --batch-size 32 --threads 2
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
import torch.nn.functional as F

from labkit.data.feature_cache import FeatureCache, weights_fingerprint
from labkit.data.images import bundled_images
from labkit.models.amnet import AMNet, AMNetConfig, amnet_loss
from labkit.models.backbones import FeatureExtractor, Preprocess, resnet152


def epoch(model: AMNet, opt: torch.optim.Optimizer, batches) -> float:
    """One pass over ``batches`` (an iterable of (features, targets)); returns seconds."""
    model.train()
    t0 = time.perf_counter()
    for x, y in batches:
        opt.zero_grad()
        amnet_loss(model, model(x), y)["loss"].backward()
        opt.step()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images = [im.load() for im in bundled_images()[: args.images]]
    targets = torch.linspace(0.6, 0.9, len(images))
    pre = Preprocess(resize=256, crop=224)
    fx = FeatureExtractor(resnet152("resmem"), "layer3").eval()
    identity = {"weights": weights_fingerprint(fx.state_dict()), "stage": "layer3", "preprocess": repr(pre)}
    bs = args.batch_size
    heads = {  # name: (config, average-pool factor applied to the layer3 map)
        "14x14 paper D=512 H=1024": (AMNetConfig(locations=196), 1),
        "14x14 D=128 H=256": (AMNetConfig(locations=196, d=128, hidden=256), 1),
        "7x7 notebook quick D=128 H=256": (AMNetConfig(locations=49, d=128, hidden=256), 2),
    }

    def cnn_every_step(pool: int):
        for s in range(0, len(images), bs):
            with torch.inference_mode():
                x = F.avg_pool2d(fx(pre.batch(images[s:s + bs])), pool)  # (B, 1024, 14/pool, 14/pool) each step
            yield x.clone(), targets[s:s + bs]

    with tempfile.TemporaryDirectory() as tmp:
        cache = FeatureCache(fx, pre.batch, identity, root=tmp)
        t0 = time.perf_counter()
        feats = cache(images, batch_size=bs, progress=False)  # one-off
        t_fill = time.perf_counter() - t0
        t0 = time.perf_counter()
        feats = FeatureCache(fx, pre.batch, identity, root=tmp)(images, progress=False)  # a later run: all hits
        t_load = time.perf_counter() - t0
    print(f"{len(images)} images, batch {bs}, {args.threads} threads; layer3 cache filled once in {t_fill:.1f} s, "
          f"re-read in {t_load:.2f} s")
    ratios = []
    for name, (cfg, pool) in heads.items():
        torch.manual_seed(0)
        maps = F.avg_pool2d(feats, pool)
        model = AMNet(cfg)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        epoch(model, opt, [(maps[:bs], targets[:bs])])  # warm-up (allocator, oneDNN kernels)
        t_cnn = epoch(model, opt, cnn_every_step(pool))
        t_cached = epoch(model, opt, [(maps[s:s + bs], targets[s:s + bs]) for s in range(0, len(images), bs)])
        ratios.append(t_cnn / t_cached)
        print(f"[{name}] epoch with the frozen CNN every step {t_cnn:7.2f} s | on cached maps {t_cached:6.3f} s | "
              f"speed-up {ratios[-1]:5.1f}x ({'>= 20x' if ratios[-1] >= 20 else 'below 20x'})")
    return min(ratios)


if __name__ == "__main__":
    main()
