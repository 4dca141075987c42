"""``labkit predict``: score a folder of images with a trained model — AMNet-Rumor's *predict* step
(RMSnow/AMNet-Rumor, the project whose workflow notebook 03 rebuilds).

AMNet-Rumor ran ``main.py --eval-images DIR --csv-out … --att-maps-out …`` by hand, per folder. Here one command
scores every image in a folder with ResMem's published weights or with an AMNet checkpoint (saved by
``labkit.models.amnet.save_checkpoint``, e.g. by notebook 03), writes a CSV of memorability scores
(``name,prediction``) and, for AMNet, one attention-map PNG per image (the per-step maps on one shared colour
scale). Images are decoded a batch at a time, so memory stays flat for a large folder; an image that cannot be
read, and a broken or looping symbolic link, is reported by name and skipped — never scored as something else.

Nothing is lost and nothing is half-done: every argument, the folder and the checkpoint (configuration, weights and
feature recipe) are checked before any model loads; the CSV and the maps are written to temporary names and put in
place only when the whole folder has been scored with finite scores, so a bad value, an error or Ctrl-C leaves
every file that was there before as it was. File names that are not valid UTF-8 are scored, their undecodable bytes
written as ``\\xNN`` in the CSV, the messages and the map names.
"""

from __future__ import annotations

import csv
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from labkit.core.errors import CheckpointError, DataError, ParameterError
from labkit.core.progress import tqdm
from labkit.data.images import load_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")


@dataclass
class PredictResult:
    csv: Path
    scored: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)
    attention_maps: list[Path] = field(default_factory=list)


def safe_text(text: str) -> str:
    """``text`` (a file name, or a message holding one) as text that always encodes: bytes of a name that are not
    UTF-8, which Python keeps as surrogates, become ``\\xNN``."""
    try:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    except UnicodeError:  # a surrogate that did not come from a file name
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _scan(folder: Path, recursive: bool) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(image files, sorted; the entries named like images that cannot be opened — a dangling or looping link —
    with why). Other files, and folders named like images, are not images and are left out silently."""
    if not folder.is_dir():
        raise ParameterError(f"{folder} is not a folder of images", fix="name a folder that holds .jpg/.png files")
    files, unreachable = [], []
    for p in folder.glob("**/*" if recursive else "*"):
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        try:
            mode = p.stat().st_mode  # follows links
        except OSError as e:
            if e.errno == errno.ELOOP:
                why = "symbolic link that loops (it leads back to itself)"
            elif p.is_symlink() and e.errno == errno.ENOENT:
                why = f"symbolic link to {os.readlink(p)}, which does not exist"
            else:
                why = f"cannot be opened ({e.strerror})"
            unreachable.append((p, safe_text(why)))
            continue
        if stat.S_ISREG(mode):
            files.append(p)
    return sorted(files), sorted(unreachable)


def _nothing_to_score(folder: Path, skipped: Sequence[tuple[str, str]] = ()) -> DataError:
    """The one error for a folder without a single image to score: none named like one, or none readable."""
    if not skipped:
        return DataError(f"no image files to score (none named {', '.join(IMAGE_SUFFIXES)})", path=safe_text(str(folder)),
                         fix="name a folder of photos")
    shown = "; ".join(f"{n}: {why}" for n, why in skipped[:3]) + (f"; and {len(skipped) - 3} more" if len(skipped) > 3 else "")
    return DataError(f"no image files to score: all {len(skipped)} image file(s) were skipped as unreadable ({shown})",
                     path=safe_text(str(folder)), fix="check the files, or name another folder")


def find_images(folder: str | Path, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` (by suffix), sorted, so the CSV's order does not depend on the file system."""
    folder = Path(folder)
    found, unreachable = _scan(folder, recursive)
    if not found:
        raise _nothing_to_score(folder, [(safe_text(str(p.relative_to(folder))), why) for p, why in unreachable])
    return found


def _readable(paths: Sequence[Path], skipped: list[tuple[str, str]], root: Path) -> tuple[list[Path], list[Image.Image]]:
    ok, images = [], []
    for p in paths:
        try:
            images.append(load_image(p, min_side=32))
            ok.append(p)
        except DataError as e:
            why = str(e).removeprefix(f"{p}: ").removeprefix(f"{p}:")  # the name is given beside it, relative to root
            skipped.append((_name(p, root), safe_text(why.strip())))
    return ok, images


def _name(p: Path, root: Path) -> str:
    """The name a CSV row and a message give an image: its path under ``root``, always encodable."""
    return safe_text(str(p.relative_to(root)))


def _map_names(paths: Sequence[Path], root: Path) -> dict[Path, str]:
    """A distinct attention-map name for each image: its path under ``root`` with "/" as "__" and dots as "_",
    extension dropped (``a.png`` → ``a``) unless two images would then share a map (``a.png``, ``a.jpg`` → ``a_png``,
    ``a_jpg``); a clash left after that gets a number. Undecodable bytes of a name are written ``_xNN``."""
    flat = {p: _name(p, root).replace("\\", "_").replace("/", "__") for p in paths}
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


def _check_output(path: Path, option: str, folder: bool) -> None:
    """Refuse an output path that cannot be written, before any work: a file (or folder, for a CSV) already in its
    place, a file where one of its parent folders should be, or a parent folder that cannot be written in."""
    if folder and path.exists() and not path.is_dir():
        raise ParameterError(f"{option} {path} is a file, not a folder", fix="name a folder for the maps")
    if not folder and path.is_dir():
        raise ParameterError(f"{option} {path} is a folder", fix="name the CSV file to write, e.g. scores.csv")
    parent = path if folder and path.is_dir() else path.parent  # an existing maps folder must itself be writable
    while not parent.exists():
        if parent.is_symlink():  # a dangling link where a folder should be
            raise ParameterError(f"{option} {path}: {parent} is a broken symbolic link, not a folder",
                                 fix=f"name {option} under an existing folder")
        parent = parent.parent
    if not parent.is_dir():
        raise ParameterError(f"{option} {path}: {parent} is a file, not a folder, so nothing can be written under it",
                             fix=f"name {option} under a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ParameterError(f"{option} {path}: cannot write in {parent} (permission denied)",
                             fix="name a path in a folder you can write to")


def _real(path: Path) -> Path:
    """``path`` with its links followed as far as they go (``Path.resolve`` raises on a looping link)."""
    return Path(os.path.realpath(path))


def _make_dirs(path: Path) -> list[Path]:
    """``path.mkdir(parents=True)``; the folders it created, outermost first (removed again if the run fails)."""
    missing = [d for d in (path, *path.parents) if not d.exists()][::-1]
    path.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_dirs(created: Sequence[Path]) -> None:
    for d in reversed(created):
        try:
            d.rmdir()
        except OSError:  # not empty: something else was put there meanwhile
            continue


def _new_temp(path: Path) -> Path:
    """A new, empty, hidden file beside ``path`` (created with the usual permissions); never an existing one."""
    for k in range(1000):
        tmp = path.with_name(f".{path.name}.{os.getpid()}{f'.{k}' if k else ''}.tmp")
        try:
            with open(tmp, "x"):
                return tmp
        except FileExistsError:
            continue
    raise ParameterError(f"cannot create a temporary file beside {path}", fix="remove the old .*.tmp files there")


def predict_folder(folder: str | Path, csv_out: str | Path, model: str = "resmem", checkpoint: str | Path | None = None,
                   att_maps: str | Path | None = None, batch_size: int = 8, recursive: bool = False,
                   progress: bool = True) -> PredictResult:
    """Score every image of ``folder``; see the module docstring. ``model``: resmem | amnet (needs ``checkpoint``) |
    triplemem (a ``checkpoint`` saved by ``labkit.models.triplemem.save_checkpoint``; without one, TripleMem as it
    starts — the published ResMem with a segmentation branch not yet trained, so ResMem's scores)."""
    if model not in MODELS:
        raise ParameterError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    if model == "resmem" and checkpoint is not None:
        raise ParameterError("--model resmem uses the published weights and takes no --checkpoint")
    if model == "amnet" and checkpoint is None:
        raise ParameterError("--model amnet needs --checkpoint (a file saved by labkit.models.amnet.save_checkpoint)")
    if att_maps is not None and model != "amnet":
        raise ParameterError("attention maps come from AMNet: use --model amnet with --att-maps")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ParameterError(f"batch size must be a whole number >= 1, got {batch_size!r}")
    csv_out = Path(csv_out)
    _check_output(csv_out, "--csv", folder=False)
    root = Path(folder)
    paths, unreachable = _scan(root, recursive)
    skipped = [(_name(p, root), why) for p, why in unreachable]
    if not paths:
        raise _nothing_to_score(root, skipped)
    # Nothing is lost by a misdirected output: never write over an input (an image, or a link named like one), never
    # put maps where the next run of the same command would score them as photos.
    inputs = {q for p in (*paths, *(p for p, _ in unreachable)) for q in (_real(p), _real(p.parent) / p.name)}
    if _real(csv_out) in inputs or _real(csv_out.parent) / csv_out.name in inputs:
        raise ParameterError(f"--csv {csv_out} is one of the images to score; it would be overwritten",
                             fix="name a new CSV file, e.g. scores.csv")
    maps_dir = None
    if att_maps is not None:
        maps_dir = Path(att_maps)
        maps, real_root = _real(maps_dir), _real(root)
        if maps == real_root or (recursive and real_root in maps.parents):
            raise ParameterError(f"--att-maps {att_maps} is inside the folder being scored: its maps could replace "
                                 "photos and be scored as photos next time", fix="write the maps to another folder")
        _check_output(maps_dir, "--att-maps", folder=True)
    map_names = _map_names(paths, root)
    score_batch, grid = _model(model, checkpoint)  # an AMNet checkpoint is checked whole here; no backbone loads yet
    result = PredictResult(csv_out, 0, skipped)
    bar = tqdm(total=len(paths), desc=f"{model} predict", unit="image", disable=not progress)
    # Rows go to a temporary file and maps to a temporary folder, put in place at the end: a failed or interrupted run
    # leaves the previous CSV and maps whole.
    created = _make_dirs(csv_out.parent)
    tmp_csv, stage, staged = None, None, []
    try:
        tmp_csv = _new_temp(csv_out)
        if maps_dir is not None:
            created += _make_dirs(maps_dir)
            stage = Path(tempfile.mkdtemp(prefix=".labkit-maps-", suffix=".tmp", dir=maps_dir))
        with open(tmp_csv, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["name", "prediction"])
            for chunk in _batches(paths, batch_size):
                ok, images = _readable(chunk, result.skipped, root)
                if ok:
                    scores, alphas = score_batch(images)
                    scores = np.asarray(scores, dtype=float).reshape(-1)
                    _refuse_non_finite(scores, ok, root, model, checkpoint)
                    for p, s in zip(ok, scores, strict=True):
                        writer.writerow([_name(p, root), f"{float(s):.6f}"])
                    result.scored += len(ok)
                    if stage is not None:
                        from labkit.viz.attention import save_attention_maps

                        staged += save_attention_maps(stage, [map_names[p] for p in ok], images, alphas, grid)
                bar.update(len(chunk))
        bar.close()
        if not result.scored:
            raise _nothing_to_score(root, result.skipped)
        for p in staged:
            os.replace(p, maps_dir / p.name)
            result.attention_maps.append(maps_dir / p.name)
        os.replace(tmp_csv, csv_out)
    except BaseException:  # failed or interrupted: the previous CSV and maps stay as they were
        bar.close()
        if tmp_csv is not None:
            tmp_csv.unlink(missing_ok=True)
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        _remove_dirs(created)
        raise
    if stage is not None:
        shutil.rmtree(stage, ignore_errors=True)
    return result  # what was skipped, and why, is in result.skipped: the caller reports it (the CLI on stderr)


MODELS = ("resmem", "amnet", "triplemem")


def _refuse_non_finite(scores: np.ndarray, ok: Sequence[Path], root: Path, model: str,
                       checkpoint: str | Path | None) -> None:
    """A nan or inf score is never written: it says the model is broken, not the image."""
    bad = ~np.isfinite(scores)
    if not bad.any():
        return
    i = int(np.argmax(bad))
    what = f"gave a non-finite score ({scores[i]}) for {_name(ok[i], root)}"
    if model in ("amnet", "triplemem") and checkpoint is not None:
        raise CheckpointError(f"the {'AMNet' if model == 'amnet' else 'TripleMem'} checkpoint {what}", path=safe_text(str(checkpoint)),
                              fix="its weights or recipe are broken; save a checkpoint of a good model")
    raise DataError(f"ResMem {what}", path=safe_text(str(root)),
                    fix="its weights may be damaged; reinstall resmem==1.1.6")


def _model(kind: str, checkpoint: str | Path | None):
    """(score a list of PIL images → (scores, attention or None), the attention grid or None). An AMNet checkpoint is
    read and checked whole now; the CNN (ResMem, or AMNet's backbone) loads at the first batch with a readable image,
    so a folder without one costs no model load."""
    if kind == "resmem":
        from labkit.models import resmem

        nets: list = []

        def score_resmem(images: list[Image.Image]) -> tuple[np.ndarray, None]:
            if not nets:
                nets.append(resmem.load_pretrained())
            return resmem.predict(nets[0], images, batch_size=len(images), progress=False), None

        return score_resmem, None
    if kind == "triplemem":
        from labkit.models import triplemem

        if checkpoint is not None:  # read and checked now (the frozen ResNet comes from the resmem wheel)
            nets = [triplemem.load_checkpoint(checkpoint)]
        else:
            nets = []

        def score_triplemem(images: list[Image.Image]) -> tuple[np.ndarray, None]:
            if not nets:
                nets.append(triplemem.load_pretrained())
            return triplemem.predict(nets[0], images, batch_size=len(images), progress=False), None

        return score_triplemem, None
    from labkit.models import amnet

    net, recipe = amnet.load_checkpoint(checkpoint)

    def score(images: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        maps = amnet.recipe_features(images, recipe, batch_size=len(images))  # what the checkpoint was trained on
        pred, alpha = net.predict(maps)
        return pred.numpy(), alpha.numpy()

    side = amnet.feature_side(recipe["crop"], recipe["stage"], recipe.get("pool", 1))
    return score, (side, side)
