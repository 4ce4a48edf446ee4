"""The morning peak's population previews what people open as an image."""

from __future__ import annotations

from benchmarks import population
from core.files import photos, sniff


def test_the_previewed_kinds_are_the_kinds_a_page_shows_as_an_image():
    """A kind no document has (the "image" of seeds 1 and 2) would leave photos unopened."""
    kinds = {"pdf", "text"} | sniff.IMAGE_KINDS
    assert set(population.PREVIEWED) <= kinds
    assert set(population.PREVIEWED) == {"pdf", *photos.KINDS}
