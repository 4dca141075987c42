"""ResMem inference speed: the ``resmem`` package's documented usage vs ``labkit.models.resmem.predict``.

Both run in the same process on the same images, alternated over several rounds (the best round of
each counts), so a busy machine slows both alike. The baseline is the README's loop verbatim:
``model.eval(); model(transformer(img).view(-1, 3, 227, 227))`` one image at a time, with autograd on.

Rows: the package; ``predict`` on the published float32 model (equal to the package to 1e-6), NHWC and
NCHW; ``predict`` on ``for_inference(model, "fp32")`` (BatchNorm folded, equal to ~1e-6) and on
``for_inference(model, "bf16")`` (layer2–layer4 in bfloat16: a few 1e-3 off, so its max |Δ score| and
Spearman ρ against the package are printed beside its speed). The bf16 row is left out, with a note, on a
CPU without bfloat16 instructions (AVX512-BF16 / AMX), where it would be emulated and slow.

    PYTHONPATH=. python benchmarks/resmem_speed.py --images 8 --rounds 2 --threads 2
    PYTHONPATH=. python benchmarks/resmem_speed.py --images 16 --compile   # + torch.compile (≈ 1 min to compile)

``--compile`` adds ``predict`` on ``torch.compile(model)`` (inductor, CPU): 1.04–1.2× over eager here, but
its compile time (printed, not counted in images/s) is longer than the quick profile allows, so notebook 02
does not use it. ``--images`` must then be a multiple of ``--batch-size``: a smaller last batch recompiles.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from labkit.data.images import bundled_images
from labkit.models import resmem as ours
from labkit.models.inference import bf16_is_native, for_inference


def package_documented(model: torch.nn.Module, images: list) -> np.ndarray:
    from resmem import transformer

    model.eval()
    out = [model(transformer(img.convert("RGB")).view(-1, 3, 227, 227)) for img in images]
    return torch.cat(out).detach().squeeze(1).numpy()


def timed(fn, *args) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    y = fn(*args)
    return time.perf_counter() - t0, y


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compile", action="store_true", help="add a torch.compile variant (compile time excluded)")
    ap.add_argument("--no-bf16", action="store_true", help="leave out the bfloat16 row")
    args = ap.parse_args(argv)
    if args.compile and args.images % args.batch_size:
        ap.error("--compile needs --images to be a multiple of --batch-size (a smaller batch recompiles)")
    torch.set_num_threads(args.threads)

    import resmem

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's 'pretrained is deprecated' from the package
        pkg = resmem.ResMem(pretrained=True)
    model = ours.load_pretrained()
    images = [b.load() for b in bundled_images()[: args.images]]
    # warm-up: first calls pay for oneDNN kernel selection
    package_documented(pkg, images[:1])
    ours.predict(model, images[:2], batch_size=2, progress=False)

    bs = args.batch_size
    variants = {
        "package, documented (1 image, autograd on)": lambda: package_documented(pkg, images),
        f"labkit predict (batch {bs}, inference_mode, NHWC)": lambda: ours.predict(
            model, images, batch_size=bs, progress=False
        ),
        f"labkit predict (batch {bs}, NCHW)": lambda: ours.predict(
            model, images, batch_size=bs, progress=False, channels_last=False
        ),
    }
    folded = for_inference(model, "fp32")
    variants[f"labkit predict, BN folded (batch {bs}, NHWC)"] = lambda: ours.predict(
        folded, images, batch_size=bs, progress=False
    )
    if not args.no_bf16 and bf16_is_native():
        fast = for_inference(model, "bf16")
        ours.predict(fast, images[:2], batch_size=2, progress=False)  # warm-up: bf16 kernels are separate
        variants[f"labkit predict, bf16 layer2-4 (batch {bs}, NHWC)"] = lambda: ours.predict(
            fast, images, batch_size=bs, progress=False
        )
    elif not args.no_bf16:
        print("bf16 row left out: this CPU has no bfloat16 instructions (AVX512-BF16/AMX)")
    if args.compile:
        fast = ours.load_pretrained().to(memory_format=torch.channels_last)
        compiled = torch.compile(fast)
        t_compile, _ = timed(ours.predict, compiled, images[: args.batch_size], args.batch_size, False)
        print(f"torch.compile: first batch (compiling) took {t_compile:.0f} s; not counted below")
        variants[f"labkit predict on torch.compile(model) (batch {args.batch_size}, NHWC)"] = lambda: ours.predict(
            compiled, images, batch_size=args.batch_size, progress=False
        )
    best: dict[str, float] = {k: float("inf") for k in variants}
    preds: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, fn in variants.items():
            dt, preds[name] = timed(fn)
            best[name] = min(best[name], dt)
    base = next(iter(variants))
    from scipy.stats import spearmanr

    print(f"{args.images} images, {args.threads} threads, best of {args.rounds} rounds; Δ and ρ against the package")
    print(f"{'variant':56s} {'images/s':>9s} {'speed-up':>9s} {'max |Δ|':>9s} {'ρ':>7s}")
    for name, dt in best.items():
        diff = float(np.abs(preds[name] - preds[base]).max())
        rho = spearmanr(preds[name], preds[base])[0] if len(images) > 2 else float("nan")
        print(f"{name:56s} {args.images / dt:9.2f} {best[base] / dt:8.2f}× {diff:9.1e} {rho:7.4f}")
    ratios = {"exact": best[base] / best[list(variants)[1]]}
    print(f"SPEED RATIO labkit/package, float32 (equal to 1e-6) = {ratios['exact']:.2f}×")
    bf16 = [k for k in variants if "bf16" in k]
    if bf16:
        ratios["bf16"] = best[base] / best[bf16[0]]
        print(f"SPEED RATIO labkit/package, bf16 = {ratios['bf16']:.2f}×")
    return ratios

if __name__ == "__main__":
    main()
