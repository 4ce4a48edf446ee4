"""Draw Carnet's app icons: a white open booklet with a small cross on a teal square.

Run from the repository root (needs Pillow):  python static/icons/make_icons.py
Writes icon-192.png, icon-512.png, icon-maskable-512.png, apple-touch-icon.png and
favicon.svg next to this file. The output is committed; re-run only to change the mark.
"""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
PRIMARY = "#0b6e75"
WHITE = "#ffffff"
SCALE = 4  # draw large, then downsample: smooth edges without an SVG renderer

# Geometry on a 512 × 512 canvas.
LEFT_PAGE = [(100, 166), (248, 190), (248, 390), (100, 366)]
RIGHT_PAGE = [(264, 190), (412, 166), (412, 366), (264, 390)]
CROSS_CENTRE = (338, 280)
CROSS_ARM = 36  # half length
CROSS_HALF = 12  # half thickness
LINES = [((126, 230), (222, 246)), ((126, 274), (222, 290)), ((126, 318), (198, 330))]


def _cross(cx, cy):
    return [
        (cx - CROSS_HALF, cy - CROSS_ARM, cx + CROSS_HALF, cy + CROSS_ARM),
        (cx - CROSS_ARM, cy - CROSS_HALF, cx + CROSS_ARM, cy + CROSS_HALF),
    ]


def draw(size, *, rounded, content_scale=1.0):
    """One icon of `size` px; `rounded` leaves transparent corners, `content_scale`
    shrinks the mark towards the centre (maskable icons keep it in the safe zone)."""
    big = 512 * SCALE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if rounded:
        d.rounded_rectangle((0, 0, big - 1, big - 1), radius=112 * SCALE, fill=PRIMARY)
    else:
        d.rectangle((0, 0, big, big), fill=PRIMARY)

    def pt(x, y):
        return ((256 + (x - 256) * content_scale) * SCALE, (256 + (y - 256) * content_scale) * SCALE)

    for page in (LEFT_PAGE, RIGHT_PAGE):
        d.polygon([pt(x, y) for x, y in page], fill=WHITE)
    for (x1, y1), (x2, y2) in LINES:
        d.line([pt(x1, y1), pt(x2, y2)], fill=PRIMARY, width=round(10 * SCALE * content_scale))
    for x1, y1, x2, y2 in _cross(*CROSS_CENTRE):
        (a, b), (c, e) = pt(x1, y1), pt(x2, y2)
        d.rectangle((a, b, c, e), fill=PRIMARY)
    out = img.resize((size, size), Image.LANCZOS)
    if not rounded:
        out = out.convert("RGB")  # maskable and Apple icons must be opaque
    return out


def svg():
    """The same mark as a small SVG (favicon, brand mark in the top bar)."""

    def poly(points):
        return " ".join(f"{x},{y}" for x, y in points)

    rects = "".join(
        f'<rect x="{x1}" y="{y1}" width="{x2 - x1}" height="{y2 - y1}"/>' for x1, y1, x2, y2 in _cross(*CROSS_CENTRE)
    )
    lines = "".join(f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}"/>' for a, b in LINES)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">'
        f'<rect width="512" height="512" rx="112" fill="{PRIMARY}"/>'
        f'<g fill="{WHITE}"><polygon points="{poly(LEFT_PAGE)}"/><polygon points="{poly(RIGHT_PAGE)}"/></g>'
        f'<g stroke="{PRIMARY}" stroke-width="10" stroke-linecap="round">{lines}</g>'
        f'<g fill="{PRIMARY}">{rects}</g>'
        "</svg>\n"
    )


def main():
    draw(192, rounded=True).save(HERE / "icon-192.png", optimize=True)
    draw(512, rounded=True).save(HERE / "icon-512.png", optimize=True)
    # Maskable: the platform crops to a circle or squircle; keep the mark inside
    # the central 80 % safe zone.
    draw(512, rounded=False, content_scale=0.78).save(HERE / "icon-maskable-512.png", optimize=True)
    draw(180, rounded=False, content_scale=0.9).save(HERE / "apple-touch-icon.png", optimize=True)
    (HERE / "favicon.svg").write_text(svg(), encoding="utf-8")


if __name__ == "__main__":
    main()
