"""Stripping and thumbnailing a large photo stay small in memory."""

from __future__ import annotations

import pytest
from PIL import Image

from core.files.images import strip_image_metadata
from core.files.thumbnails import thumbnail
from tests.documents.file_samples import ORIENTATION, assert_thumbnail, gps_exif, peak_growth_mb

# ------------------------------------------------------------------ memory


@pytest.fixture(scope="session")
def big_photo(tmp_path_factory):
    """A 24 Mpx JPEG (6000 x 4000), quick to make: smooth content at low quality."""
    path = tmp_path_factory.mktemp("photos") / "24mp.jpg"
    im = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    im.save(path, "JPEG", quality=30, exif=gps_exif(orientation=6))
    return path


def test_stripping_a_24mp_photo_stays_small(big_photo, tmp_path):
    import tracemalloc

    out = tmp_path / "clean.jpg"
    tracemalloc.start()
    try:
        with open(big_photo, "rb") as src, open(out, "wb") as dst:
            strip_image_metadata(src, "jpeg", dst)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
    with Image.open(out) as im:
        assert im.size == (6000, 4000) and dict(im.getexif()) == {ORIENTATION: 6}
    assert peak_growth_mb("strip", big_photo) < 32


def test_thumbnail_of_a_24mp_photo_stays_small(big_photo):
    w, h = assert_thumbnail(thumbnail(big_photo, "jpeg"))
    assert h == 320 and 212 <= w <= 214  # orientation 6 applied to the thumbnail
    assert peak_growth_mb("jpeg", big_photo) < 32
