"""labkit.data.images: documented conversions, clear errors, and the bundled set's shape."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from labkit.data.images import (
    CROP_SCALES,
    SOURCES,
    ImageLoadError,
    ImageTooSmallError,
    bundled_images,
    load_image,
    load_images,
    source_path,
)


def test_grayscale_png_is_replicated_to_three_equal_channels(tmp_path):
    a = np.arange(64 * 48, dtype=np.uint8).reshape(48, 64)
    Image.fromarray(a, mode="L").save(tmp_path / "g.png")
    rgb = np.asarray(load_image(tmp_path / "g.png"))
    assert rgb.shape == (48, 64, 3)
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], a)


def test_transparent_pixels_become_white_not_black(tmp_path):
    a = np.zeros((40, 40, 4), dtype=np.uint8)
    a[..., 0] = 200  # red, fully transparent on the left half, opaque on the right
    a[:, 20:, 3] = 255
    Image.fromarray(a, mode="RGBA").save(tmp_path / "t.png")
    rgb = np.asarray(load_image(tmp_path / "t.png"))
    assert (rgb[:, :20] == 255).all()
    assert (rgb[:, 20:] == [200, 0, 0]).all()


def test_sixteen_bit_png_is_rescaled_by_257_not_clipped(tmp_path):
    a = np.array([[0, 257 * 100, 65535, 257 * 3]], dtype=np.uint16).repeat(8, 0)
    Image.fromarray(a).save(tmp_path / "d.png")  # PIL writes mode I;16
    rgb = np.asarray(load_image(tmp_path / "d.png"))
    np.testing.assert_array_equal(rgb[0, :, 0], [0, 100, 255, 3])


def test_cmyk_jpeg_goes_through_colour_conversion(tmp_path):
    Image.new("CMYK", (50, 30), (0, 255, 255, 0)).save(tmp_path / "c.jpg")  # pure red in CMYK
    rgb = np.asarray(load_image(tmp_path / "c.jpg")).astype(int)
    assert rgb.shape == (30, 50, 3)
    assert rgb[..., 0].mean() > 200 and rgb[..., 1].mean() < 60 and rgb[..., 2].mean() < 60


def test_palette_and_arrays_are_accepted():
    p = Image.new("P", (10, 10), 3)
    assert load_image(p).mode == "RGB"
    assert load_image(np.full((5, 6), 0.5)).getpixel((0, 0)) == (128, 128, 128)
    assert load_image(np.full((5, 6, 4), 255, np.uint8)).size == (6, 5)
    with pytest.raises(ImageLoadError, match=r"\[0, 1\]"):
        load_image(np.full((5, 6), 2.0))
    with pytest.raises(ImageLoadError, match="shape"):
        load_image(np.zeros((5, 6, 2), np.uint8))


def test_non_image_file_names_the_path(tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is not a jpeg")
    with pytest.raises(ImageLoadError, match="notes.jpg.*not an image"):
        load_image(bad)
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)
    with pytest.raises(ImageLoadError, match="expected a path"):
        load_image(42)


def test_truncated_jpeg_is_an_error(tmp_path):
    Image.new("RGB", (64, 64), (10, 20, 30)).save(tmp_path / "ok.jpg")
    data = (tmp_path / "ok.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="cut.jpg"):
        load_image(tmp_path / "cut.jpg")


def test_tiny_image_is_refused_below_min_side_and_position_is_named():
    tiny = Image.new("RGB", (20, 100))
    assert load_image(tiny).size == (20, 100)
    with pytest.raises(ImageTooSmallError, match="20×100 px"):
        load_image(tiny, min_side=32)
    with pytest.raises(ImageTooSmallError, match="item 1"):
        load_images([Image.new("RGB", (64, 64)), tiny], min_side=32)


def test_bundled_set_is_deterministic_in_bounds_and_offline():
    ims = bundled_images()
    per_source = 1 + sum(n * n for _, n in CROP_SCALES)
    assert len(ims) == len(SOURCES) * per_source == 324
    assert len({im.name for im in ims}) == len(ims)
    assert [im.name for im in ims] == [im.name for im in bundled_images()]
    for name in SOURCES:
        assert source_path(name).is_file()  # inside the installed wheel: nothing fetched
    with Image.open(source_path("chelsea")) as im:
        w, h = im.size
    for im in ims:
        if im.source == "chelsea":
            left, top, right, bottom = im.box
            assert 0 <= left < right <= w and 0 <= top < bottom <= h
    crop = next(im for im in ims if im.name == "chelsea_s0.60_r1c1")
    assert crop.load().size == (180, 180)  # 0.6 × short side 300
    with pytest.raises(KeyError, match="unknown bundled photo"):
        source_path("eagle")  # fetched by pooch in skimage: not part of the set
