"""``labkit predict``: score a folder of images with a trained model — the seed workflow's *predict* step.

The seed ran ``main.py --eval-images DIR --csv-out … --att-maps-out …`` by hand, per folder. Here one command
scores every image in a folder with ResMem's published weights or with an AMNet checkpoint (saved by
``labkit.models.amnet.save_checkpoint``, e.g. by notebook 03), writes a CSV of memorability scores
(``name,prediction``) and, for AMNet, one attention-map PNG per image (the per-step maps on one shared colour
scale). Images are decoded a batch at a time, so memory stays flat for a large folder; an image that cannot be
read is reported by name and skipped — never scored as something else.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from labkit.core.errors import DataError, ParameterError
from labkit.data.images import load_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")


@dataclass
class PredictResult:
    csv: Path
    scored: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)
    attention_maps: list[Path] = field(default_factory=list)


def find_images(folder: str | Path, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` (by suffix), sorted, so the CSV's order does not depend on the file system."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"{folder} is not a folder of images", fix="name a folder that holds .jpg/.png files")
    pattern = "**/*" if recursive else "*"
    found = sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise DataError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in {folder}", path=folder)
    return found


def _readable(paths: Sequence[Path], skipped: list[tuple[str, str]], root: Path) -> tuple[list[Path], list[Image.Image]]:
    ok, images = [], []
    for p in paths:
        try:
            images.append(load_image(p, min_side=32))
            ok.append(p)
        except DataError as e:
            why = str(e).removeprefix(f"{p}: ").removeprefix(f"{p}:")  # the name is given beside it, relative to root
            skipped.append((str(p.relative_to(root)), why.strip()))
    return ok, images


def _map_names(paths: Sequence[Path], root: Path) -> dict[Path, str]:
    """A distinct attention-map name for each image: its path under ``root`` with "/" as "__" and dots as "_",
    extension dropped (``a.png`` → ``a``) unless two images would then share a map (``a.png``, ``a.jpg`` → ``a_png``,
    ``a_jpg``); a clash left after that gets a number."""
    flat = {p: str(p.relative_to(root)).replace("/", "__") for p in paths}
    short = {p: str(Path(n).with_suffix("")).replace(".", "_") for p, n in flat.items()}
    counts: dict[str, int] = {}
    for v in short.values():
        counts[v] = counts.get(v, 0) + 1
    names, taken = {}, set()
    for p in paths:
        name = short[p] if counts[short[p]] == 1 else flat[p].replace(".", "_")
        base, k = name, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        names[p] = name
    return names


def _batches(paths: Sequence[Path], size: int) -> Iterator[Sequence[Path]]:
    for i in range(0, len(paths), size):
        yield paths[i : i + size]


def predict_folder(folder: str | Path, csv_out: str | Path, model: str = "resmem", checkpoint: str | Path | None = None,
                   att_maps: str | Path | None = None, batch_size: int = 8, recursive: bool = False,
                   progress: bool = True) -> PredictResult:
    """Score every image of ``folder``; see the module docstring. ``model``: resmem | amnet (needs ``checkpoint``)."""
    if model not in ("resmem", "amnet"):
        raise ParameterError(f"model must be 'resmem' or 'amnet', got {model!r}")
    if model == "amnet" and checkpoint is None:
        raise ParameterError("--model amnet needs --checkpoint (a file saved by labkit.models.amnet.save_checkpoint)")
    if att_maps is not None and model != "amnet":
        raise ParameterError("attention maps come from AMNet: use --model amnet with --att-maps")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ParameterError(f"batch size must be a whole number >= 1, got {batch_size!r}")
    csv_out = Path(csv_out)
    if csv_out.is_dir():
        raise ParameterError(f"--csv {csv_out} is a folder", fix="name the CSV file to write, e.g. scores.csv")
    root = Path(folder)
    paths = find_images(root, recursive)
    # Nothing is lost by a misdirected output: never write over an input, never put maps where the next run of the
    # same command would score them as photos.
    inputs = {p.resolve() for p in paths}
    if csv_out.resolve() in inputs:
        raise ParameterError(f"--csv {csv_out} is one of the images to score; it would be overwritten",
                             fix="name a new CSV file, e.g. scores.csv")
    if att_maps is not None:
        maps = Path(att_maps).resolve()
        if maps == root.resolve() or (recursive and root.resolve() in maps.parents):
            raise ParameterError(f"--att-maps {att_maps} is inside the folder being scored: its maps could replace "
                                 "photos and be scored as photos next time", fix="write the maps to another folder")
        if maps.exists() and not maps.is_dir():
            raise ParameterError(f"--att-maps {att_maps} is a file, not a folder", fix="name a folder for the maps")
    map_names = _map_names(paths, root)
    score_batch, grid = _model(model, checkpoint)
    result = PredictResult(csv_out, 0)
    csv_out.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(paths), desc=f"{model} predict", unit="image", disable=not progress)
    # Rows go to a temporary file renamed at the end: a failed or interrupted run leaves the previous CSV whole.
    tmp_csv = csv_out.with_name(f".{csv_out.name}.tmp")
    try:
        with open(tmp_csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["name", "prediction"])
            for chunk in _batches(paths, batch_size):
                ok, images = _readable(chunk, result.skipped, root)
                if ok:
                    scores, alphas = score_batch(images)
                    for p, s in zip(ok, scores, strict=True):
                        writer.writerow([str(p.relative_to(root)), f"{float(s):.6f}"])
                    result.scored += len(ok)
                    if att_maps is not None:
                        from labkit.viz.attention import save_attention_maps

                        names = [map_names[p] for p in ok]
                        result.attention_maps += save_attention_maps(att_maps, names, images, alphas, grid)
                bar.update(len(chunk))
        bar.close()
    except BaseException:  # failed or interrupted: the previous CSV stays as it was
        tmp_csv.unlink(missing_ok=True)
        raise
    os.replace(tmp_csv, csv_out)
    for name, why in result.skipped:
        print(f"labkit predict: skipped {name}: {why}", file=sys.stderr)
    return result


def _model(kind: str, checkpoint: str | Path | None):
    """(score a list of PIL images → (scores, attention or None), the attention grid or None)."""
    if kind == "resmem":
        from labkit.models import resmem

        net = resmem.load_pretrained()
        return (lambda images: (resmem.predict(net, images, batch_size=len(images), progress=False), None)), None
    from labkit.models import amnet

    net, recipe = amnet.load_checkpoint(checkpoint)

    def score(images: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        maps = amnet.recipe_features(images, recipe, batch_size=len(images))  # what the checkpoint was trained on
        pred, alpha = net.predict(maps)
        return pred.numpy(), alpha.numpy()

    side = int(round(net.cfg.locations ** 0.5))
    return score, (side, side)
