"""Images in, RGB PIL images out: one robust loader, and the course's bundled photo set.

Why a loader of our own: ``Image.open(p).convert("RGB")`` silently turns a 16-bit PNG white,
drops an alpha channel onto black, ignores EXIF rotation and accepts a 3×3 icon. The models of the
course need 8-bit RGB photos, so every conversion is spelled out here (see :func:`load_image`) and
everything else is an :class:`ImageLoadError` that names the file and the problem.

The bundled set (:func:`bundled_images`) is made of real photographs shipped *inside* installed
wheels (scikit-image's ``skimage/data/*.png|jpg`` that sit in the package folder, never the ones
scikit-image fetches with pooch; scikit-learn's two sample images) plus a reproducible derived set
of square crops at several scales and positions, so small heads have a few hundred inputs to train on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from labkit.core.checks import require_int
from labkit.core.errors import DataError

ImageLike = str | os.PathLike | Image.Image | np.ndarray


class ImageLoadError(DataError):
    """An input cannot be turned into an 8-bit RGB image (not an image, unreadable, unsupported)."""


class ImageTooSmallError(ImageLoadError):
    """An image is smaller than the caller's minimum side; upsampling it would invent the content."""


def _to_rgb(img: Image.Image, where: str) -> Image.Image:
    """Documented conversions to 8-bit RGB (every mode PIL can open in 2D)."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in img.info):
        # Transparent pixels become white (what a viewer shows on a page), not black as .convert("RGB") does.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit / 32-bit single channel: PIL's convert("L") clips at 255 (a 16-bit photo turns white);
        # we rescale by the type's range instead (uint16: /257), float images must already be in [0, 1].
        a = np.asarray(img)
        if mode == "F":
            if not np.isfinite(a).all():
                raise ImageLoadError(f"{where}: float image holds {a.size - int(np.isfinite(a).sum())} NaN or inf "
                                     "pixels; save it again with finite values in [0, 1]")
            if a.min() < 0 or a.max() > 1:
                raise ImageLoadError(f"{where}: float image must hold values in [0, 1], got [{a.min():g}, {a.max():g}]")
            a8 = np.round(a * 255)
        elif mode == "I" and (a.max(initial=0) > 65535 or a.min(initial=0) < 0):
            raise ImageLoadError(f"{where}: 32-bit integer image with values outside 0..65535 is not a photo we can "
                                 "scale; save it as an 8- or 16-bit image")
        else:
            a8 = np.round(a.astype(np.float64) / 257.0)
        return Image.fromarray(a8.astype(np.uint8), mode="L").convert("RGB")
    if mode in ("L", "1", "P", "CMYK", "YCbCr", "LAB", "HSV"):
        # Grayscale is replicated over three channels; CMYK/YCbCr/LAB/HSV go through PIL's colour conversion.
        return img.convert("RGB")
    raise ImageLoadError(f"{where}: unsupported image mode {mode!r}; save it as an 8-bit RGB PNG or JPEG")


def _from_array(a: np.ndarray) -> Image.Image:
    """H×W or H×W×{1,3,4} arrays: uint8 as is, uint16 scaled by 1/257, floats must lie in [0, 1]."""
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageLoadError(f"array image must be H×W or H×W×3/4 (channels last), got shape {a.shape}")
    if a.dtype == np.uint8:
        a8 = a
    elif a.dtype == np.uint16:
        a8 = np.round(a / 257.0).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
            raise ImageLoadError("float array image must hold finite values in [0, 1]")
        a8 = np.round(a * 255).astype(np.uint8)
    elif a.dtype == np.bool_:
        a8 = a.astype(np.uint8) * 255
    else:
        raise ImageLoadError(f"array image dtype {a.dtype} is not supported; use uint8, uint16 or float in [0, 1]")
    return Image.fromarray(np.ascontiguousarray(a8))


def load_image(src: ImageLike, min_side: int = 1) -> Image.Image:
    """Open ``src`` (path, PIL image or array) as an 8-bit RGB PIL image.

    Conversions (all deliberate): EXIF orientation applied; grayscale, palette and 1-bit replicated
    to RGB; transparency composited on white; CMYK/YCbCr through PIL's colour conversion; 16-bit
    scaled to 8-bit by 1/257 (not clipped); animated/multi-page files give their first frame.
    ``min_side``: smallest allowed height/width; smaller is an :class:`ImageTooSmallError`
    (models resize anyway, so this is a policy choice left to the caller). It must be an int >= 1, checked
    before the file is opened: ``"32"`` would otherwise fail as a comparison error after the decode.
    """
    min_side = require_int("min_side", min_side, at_least=1)
    if isinstance(src, Image.Image):
        where = f"image ({src.mode}, {src.size[0]}×{src.size[1]})"
        img = src
    elif isinstance(src, np.ndarray):
        where = f"array image {src.shape}"
        img = _from_array(src)
    elif isinstance(src, str | os.PathLike):
        path = Path(src)
        where = str(path)
        if not path.exists():
            raise ImageLoadError(f"{where}: no such file")
        if path.is_dir():
            raise ImageLoadError(f"{where}: is a folder, not an image file")
        if path.stat().st_size == 0:
            raise ImageLoadError(f"{where}: the file is empty (0 bytes); copy or download it again")
        try:
            with Image.open(path) as opened:
                opened.seek(0)
                img = ImageOps.exif_transpose(opened)
                img.load()
        except UnidentifiedImageError as e:
            raise ImageLoadError(f"{where}: not an image file PIL can read (wrong extension or corrupt?)") from e
        except Image.DecompressionBombError as e:  # PIL's message does not say which file
            raise ImageLoadError(f"{where}: refused as a possible decompression bomb ({e})",
                                 fix="if you trust the file, raise PIL.Image.MAX_IMAGE_PIXELS; else shrink it") from e
        except MemoryError:
            raise
        except Exception as e:  # OSError for truncated files; SyntaxError, ValueError, struct.error… for broken ones
            raise ImageLoadError(f"{where}: image file is damaged or truncated ({type(e).__name__}: {e})") from e
    else:
        raise ImageLoadError(f"expected a path, PIL image or numpy array, got {type(src).__name__}")
    rgb = _to_rgb(img, where)
    if min(rgb.size) < min_side:
        raise ImageTooSmallError(
            f"{where}: {rgb.size[0]}×{rgb.size[1]} px is smaller than the minimum side {min_side} px; "
            "upsampling it would invent content (pass a larger image, or a smaller min_side on purpose)"
        )
    return rgb


def load_images(items: Iterable[ImageLike], min_side: int = 1) -> list[Image.Image]:
    """:func:`load_image` on each item; the error names the failing position too."""
    min_side = require_int("min_side", min_side, at_least=1)  # once, before the first image is decoded
    out = []
    for i, item in enumerate(items):
        try:
            out.append(load_image(item, min_side=min_side))
        except ImageLoadError as e:
            raise type(e)(f"item {i}: {e}") from e
    return out


# ---- the bundled photo set -------------------------------------------------------------------

#: Real photographs shipped inside installed wheels: name → (package, file). Skipped on purpose:
#: drawings/synthetic images (logo, phantom, text, horse silhouette), the stereo twin
#: motorcycle_right, and every skimage file fetched by pooch (not in the wheel, would download).
SOURCES: dict[str, tuple[str, str]] = {
    "astronaut": ("skimage", "astronaut.png"),
    "brick": ("skimage", "brick.png"),
    "camera": ("skimage", "camera.png"),
    "cell": ("skimage", "cell.png"),
    "chelsea": ("skimage", "chelsea.png"),
    "coffee": ("skimage", "coffee.png"),
    "coins": ("skimage", "coins.png"),
    "grass": ("skimage", "grass.png"),
    "gravel": ("skimage", "gravel.png"),
    "hubble_deep_field": ("skimage", "hubble_deep_field.jpg"),
    "ihc": ("skimage", "ihc.png"),
    "moon": ("skimage", "moon.png"),
    "motorcycle": ("skimage", "motorcycle_left.png"),
    "page": ("skimage", "page.png"),
    "retina": ("skimage", "retina.jpg"),
    "rocket": ("skimage", "rocket.jpg"),
    "china": ("sklearn", "china.jpg"),
    "flower": ("sklearn", "flower.jpg"),
}
SOURCE_LICENSE = (
    "scikit-image sample photos (per-image licence in the docstring of each skimage.data function: "
    "public domain, CC0 or CC-BY) and scikit-learn sample images (china.jpg, flower.jpg: CC-BY 2.0, "
    "see sklearn/datasets/images/README.txt)"
)

#: Derived crops: (side as a fraction of the source's short side, positions per axis).
CROP_SCALES: tuple[tuple[float, int], ...] = ((0.8, 2), (0.6, 3), (0.4, 2))


def source_path(name: str) -> Path:
    """File of a bundled source photo inside its installed package (nothing is downloaded)."""
    if name not in SOURCES:
        raise KeyError(f"unknown bundled photo {name!r}; choose from {sorted(SOURCES)}")
    package, file = SOURCES[name]
    if package == "skimage":
        import skimage.data

        folder = Path(skimage.data.__file__).parent
    else:
        import sklearn.datasets

        folder = Path(sklearn.datasets.__file__).parent / "images"
    path = folder / file
    if not path.is_file():
        raise ImageLoadError(f"bundled photo {name!r} should ship at {path} but is missing; reinstall {package}")
    return path


@dataclass(frozen=True)
class BundledImage:
    """One member of the bundled set: a source photo and a crop box (left, top, right, bottom)."""

    name: str
    source: str
    box: tuple[int, int, int, int]

    def load(self) -> Image.Image:
        return load_image(source_path(self.source)).crop(self.box)


def _crop_boxes(width: int, height: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    boxes = [("full", (0, 0, width, height))]
    for scale, n in CROP_SCALES:
        side = int(round(scale * min(width, height)))
        xs = np.linspace(0, width - side, n).round().astype(int)
        ys = np.linspace(0, height - side, n).round().astype(int)
        for r, y in enumerate(ys):
            for c, x in enumerate(xs):
                boxes.append((f"s{scale:.2f}_r{r}c{c}", (int(x), int(y), int(x) + side, int(y) + side)))
    return boxes


def bundled_images(sources: Sequence[str] | None = None, crops: bool = True) -> list[BundledImage]:
    """The bundled set in a fixed order: each source's full photo, then (``crops``) its square crops
    at scales :data:`CROP_SCALES` on an n×n grid of positions (18 sources × 18 = 324 with crops)."""
    out = []
    for src in sources or SOURCES:
        with Image.open(source_path(src)) as im:
            w, h = im.size
        for tag, box in _crop_boxes(w, h) if crops else [("full", (0, 0, w, h))]:
            out.append(BundledImage(name=src if tag == "full" else f"{src}_{tag}", source=src, box=box))
    return out


def edit_image(img: Image.Image, zoom: float = 1.0, dx: float = 0.0, dy: float = 0.0, brightness: float = 1.0,
               blur: float = 0.0, grayscale: bool = False) -> Image.Image:
    """An edited copy for "what moves memorability?" experiments (notebook 02's explorer).

    ``zoom`` ≥ 1 crops a 1/zoom window whose centre moves by ``dx``, ``dy`` ∈ [−1, 1] (fractions of the free
    margin); ``brightness`` scales the pixels (1 = unchanged); ``blur`` is a Gaussian radius in pixels of the
    original image; ``grayscale`` drops colour. The output keeps the crop's own size (ResMem resizes it anyway).
    """
    from PIL import ImageEnhance, ImageFilter

    if not zoom >= 1.0 or not -1.0 <= dx <= 1.0 or not -1.0 <= dy <= 1.0 or brightness < 0 or blur < 0:
        raise ValueError(f"need zoom >= 1, dx and dy in [-1, 1], brightness >= 0, blur >= 0; got "
                         f"zoom={zoom}, dx={dx}, dy={dy}, brightness={brightness}, blur={blur}")
    out = img.convert("RGB")
    if blur > 0:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    w, h = out.size
    cw, ch = max(1, round(w / zoom)), max(1, round(h / zoom))
    left = round((w - cw) / 2 * (1 + dx))
    top = round((h - ch) / 2 * (1 + dy))
    out = out.crop((left, top, left + cw, top + ch))
    if brightness != 1.0:
        out = ImageEnhance.Brightness(out).enhance(brightness)
    return ImageOps.grayscale(out).convert("RGB") if grayscale else out
