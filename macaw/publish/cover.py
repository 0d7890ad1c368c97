"""Cover art: the show's own image when `show.image` names one, else one drawn from the title.

Apple asks for a square 1400–3000 px RGB JPEG or PNG. The file lands in feeds/ under a name
holding a hash of its content, so an app that cached the old art sees a new URL when it changes,
and publishing again with the same title writes nothing.
"""

from __future__ import annotations

import hashlib
import textwrap
from io import BytesIO
from pathlib import Path

from macaw.config import Config
from macaw.errors import PublishError
from macaw.publish import files

SIZE = 1400
MIN_SIZE, MAX_SIZE = 1400, 3000
DRAWING_VERSION = "1"  # bump when the drawing changes, so the file name changes with it


def _pillow():
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:  # pragma: no cover - Pillow is a dependency
        raise PublishError("Pillow is not installed, so Macaw cannot draw cover art",
                           hint="pip install pillow, or set show.image") from None
    return Image, ImageDraw, ImageFont


def draw_cover(title: str) -> bytes:
    """A 1400x1400 RGB PNG: the title in large type on a colour picked from the title."""
    Image, ImageDraw, ImageFont = _pillow()
    digest = hashlib.sha256(title.encode("utf-8")).digest()
    hue = digest[0] / 255
    # A dark, saturated background keeps white type readable whatever the hue.
    import colorsys

    r, g, b = (int(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.65, 0.35))
    img = Image.new("RGB", (SIZE, SIZE), (r, g, b))
    draw = ImageDraw.Draw(img)
    accent = tuple(int(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.55, 0.95))
    draw.rectangle([0, SIZE - 90, SIZE, SIZE], fill=accent)

    text = title.strip() or "Macaw"
    size = 170
    while True:
        font = ImageFont.load_default(size=size)
        width = max(6, int((SIZE - 200) / (size * 0.55)))
        lines = textwrap.wrap(text, width=width)[:6]
        block = "\n".join(lines)
        left, top, right, bottom = draw.multiline_textbbox((0, 0), block, font=font, spacing=size // 5)
        if (right - left <= SIZE - 200 and bottom - top <= SIZE - 400) or size <= 48:
            break
        size -= 10
    x = (SIZE - (right - left)) // 2 - left
    y = (SIZE - 90 - (bottom - top)) // 2 - top
    draw.multiline_text((x, y), block, font=font, fill=(255, 255, 255), spacing=size // 5, align="center")
    small = ImageFont.load_default(size=44)
    draw.text((SIZE // 2, SIZE - 45), "made with Macaw", font=small, fill=(r, g, b), anchor="mm")

    out = BytesIO()
    img.save(out, format="PNG", optimize=False)
    return out.getvalue()


def check_cover(data: bytes, where: str) -> str:
    """The file extension for valid cover art, or PublishError saying what is wrong with it."""
    Image, _, _ = _pillow()
    try:
        with Image.open(BytesIO(data)) as img:
            fmt, mode, (w, h) = img.format, img.mode, img.size
    except Exception:
        raise PublishError(f"cover art {where} is not an image Pillow can read", hint="use a JPEG or PNG") from None
    if fmt not in ("JPEG", "PNG"):
        raise PublishError(f"cover art {where} is {fmt}, not JPEG or PNG", hint="convert it")
    if mode != "RGB":
        raise PublishError(f"cover art {where} is {mode}, not RGB", hint="save it as RGB without transparency")
    if w != h or not MIN_SIZE <= w <= MAX_SIZE:
        raise PublishError(f"cover art {where} is {w}x{h} px", hint="use a square image of 1400 to 3000 px")
    return ".png" if fmt == "PNG" else ".jpg"


def ensure_cover(config: Config) -> Path:
    """Make sure feeds/ holds the cover art; return its path relative to the output root."""
    if config.show.image:
        src = Path(config.show.image).expanduser()
        if not src.is_absolute():
            src = config.out / src
        try:
            data = src.read_bytes()
        except OSError as exc:
            raise PublishError(f"cannot read cover art {src}: {exc.strerror}", hint="check show.image") from None
        ext = check_cover(data, str(src))
        key = hashlib.sha256(data).hexdigest()[:12]
    else:
        ext, data = ".png", None
        key = hashlib.sha256(f"{DRAWING_VERSION}\n{config.show.title}".encode("utf-8")).hexdigest()[:12]
    rel = Path("feeds") / f"cover-{key}{ext}"
    target = config.out / rel
    if not target.is_file():
        files.write(target, data if data is not None else draw_cover(config.show.title))
    return rel
