"""Generated SVG posters: titles have no images, so each one gets its own.

A poster is a pure function of a title's id, text, year and genres: the
genres choose the palette (Horror is blood red, Drama deep blue, Film-Noir
grey), and a hash of the id chooses the artwork and nudges the hues, so two
dramas from the same year still look different while the same title always
gets the same bytes (which is what lets them be cached for a year).
"""

import colorsys
import hashlib
import math
import random
import re
import textwrap
from collections.abc import Sequence
from xml.sax.saxutils import escape

#: Bump when the artwork changes, so cached posters are fetched again.
STYLE_VERSION = 1

WIDTH, HEIGHT = 200, 300
MARGIN = 16
TEXT_WIDTH = WIDTH - 2 * MARGIN
MAX_LINES = 5
FONT_FAMILY = (
    "'Arial Narrow', 'Liberation Sans Narrow', 'Roboto Condensed', "
    "'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"
)
#: Average advance of a bold narrow glyph, in ems; an estimate on the wide
#: side so lines fit even when the fallback font is a regular-width one.
GLYPH_WIDTH = 0.52

#: Genre -> (hue in degrees, saturation, lightness of its shapes).
GENRE_MOODS: dict[str, tuple[int, float, float]] = {
    "Action": (8, 0.85, 0.50),
    "Adventure": (32, 0.85, 0.52),
    "Animation": (190, 0.80, 0.55),
    "Children": (48, 0.90, 0.58),
    "Comedy": (44, 0.95, 0.55),
    "Crime": (352, 0.70, 0.40),
    "Documentary": (150, 0.45, 0.45),
    "Drama": (218, 0.65, 0.45),
    "Fantasy": (275, 0.65, 0.55),
    "Film-Noir": (220, 0.06, 0.55),
    "Horror": (0, 0.90, 0.35),
    "IMAX": (200, 0.40, 0.55),
    "Musical": (318, 0.75, 0.55),
    "Mystery": (250, 0.50, 0.42),
    "Romance": (338, 0.75, 0.60),
    "Sci-Fi": (178, 0.75, 0.45),
    "Thriller": (16, 0.55, 0.38),
    "War": (80, 0.35, 0.38),
    "Western": (26, 0.65, 0.42),
}
#: Genres that say how a film was shown rather than what it is.
_FORMAT_GENRES = {"IMAX"}

# Characters XML 1.0 forbids even when escaped (NUL, most C0 controls...).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def poster_version(title: str, year: int | None) -> str:
    """A short token for the poster URL, so a renamed title is fetched again."""
    key = f"{STYLE_VERSION}|{title}|{year}".encode()
    return hashlib.sha256(key).hexdigest()[:10]


def poster_svg(
    *, title_id: int, title: str, year: int | None, genres: Sequence[str]
) -> str:
    """The poster of one title, as an SVG document (2:3, 200 x 300 units)."""
    seed = int.from_bytes(hashlib.sha256(f"poster:{title_id}".encode()).digest()[:8])
    rng = random.Random(seed)
    palette = _palette(genres, rng)
    art = _ARTWORK[rng.randrange(len(_ARTWORK))](rng, palette)
    lines, size = wrap_title(title)
    text = _clean(title)
    label = f"{text} ({year})" if year else text
    angle = rng.choice((0, 20, 45, 70, 90, 135))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img">',
        f"<title>{escape(label)}</title>",
        "<defs>",
        f'<linearGradient id="bg" gradientTransform="rotate({angle} .5 .5)">'
        f'<stop offset="0" stop-color="{palette.background[0]}"/>'
        f'<stop offset="1" stop-color="{palette.background[1]}"/></linearGradient>',
        '<linearGradient id="scrim" x1="0" y1="0" x2="0" y2="1">'
        '<stop offset="0" stop-color="#000" stop-opacity="0"/>'
        '<stop offset=".4" stop-color="#000" stop-opacity=".6"/>'
        '<stop offset="1" stop-color="#000" stop-opacity=".9"/></linearGradient>',
        "</defs>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#bg)"/>',
        *art,
        f'<rect y="{HEIGHT - 200}" width="{WIDTH}" height="200" fill="url(#scrim)"/>',
    ]
    if year:
        parts.append(
            f'<text x="{MARGIN}" y="30" font-family="{FONT_FAMILY}" font-size="14" '
            f'font-weight="700" letter-spacing="3" fill="#fff" fill-opacity=".9">'
            f"{year}</text>"
        )
    line_height = size * 1.08
    names = [g for g in genres if g not in _FORMAT_GENRES][:2]
    bottom = HEIGHT - (34 if names else 20)
    first = bottom - line_height * (len(lines) - 1)
    parts.append(
        f'<rect x="{MARGIN}" y="{first - size - 10:.1f}" width="28" height="3" '
        f'fill="{palette.accent}"/>'
    )
    parts.append(
        f'<text font-family="{FONT_FAMILY}" font-size="{size:.1f}" '
        f'font-weight="700" fill="#fff">'
    )
    for i, line in enumerate(lines):
        y = first + i * line_height
        parts.append(f'<tspan x="{MARGIN}" y="{y:.1f}">{escape(line)}</tspan>')
    parts.append("</text>")
    if names:
        caption = " · ".join(_clean(n).upper() for n in names)
        parts.append(
            f'<text x="{MARGIN}" y="{HEIGHT - 16}" font-family="{FONT_FAMILY}" '
            f'font-size="10" letter-spacing="1.5" fill="#fff" fill-opacity=".75">'
            f"{escape(caption)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def wrap_title(title: str) -> tuple[list[str], float]:
    """The title's lines (at most five, the last one ellipsized) and a font size."""
    text = " ".join(_clean(title).split()) or "Untitled"
    # Narrow lines make big letters, but a word is only broken when it is
    # longer than 16 characters.
    shortest = max(9, min(max(len(word) for word in text.split()), 16))
    lines: list[str] = []
    for width in sorted({shortest, *(w for w in (11, 13, 15, 18, 22) if w > shortest)}):
        lines = textwrap.wrap(text, width, break_long_words=True)
        if len(lines) <= 4:
            break
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = lines[-1][: max(len(lines[-1]) - 1, 1)].rstrip() + "…"
    longest = max(len(line) for line in lines)
    size = min(34.0, TEXT_WIDTH / (longest * GLYPH_WIDTH), 150 / len(lines) / 1.08)
    return lines, max(math.floor(size * 10) / 10, 11.0)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


class _Palette:
    def __init__(self, background: tuple[str, str], shapes: list[str], accent: str):
        self.background = background
        self.shapes = shapes
        self.accent = accent


def _hsl(hue: float, saturation: float, lightness: float) -> str:
    r, g, b = colorsys.hls_to_rgb((hue % 360) / 360, lightness, saturation)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _mood(genre: str) -> tuple[int, float, float]:
    if genre in GENRE_MOODS:
        return GENRE_MOODS[genre]
    digest = hashlib.sha256(genre.encode()).digest()
    return digest[0] * 360 // 256, 0.6, 0.5


def _palette(genres: Sequence[str], rng: random.Random) -> _Palette:
    names = sorted({g for g in genres if g not in _FORMAT_GENRES}) or sorted(
        set(genres)
    )
    if names:
        rng.shuffle(names)  # which genre leads depends on the title, not the alphabet
        moods = [_mood(n) for n in names[:3]]
    else:
        moods = [(rng.randrange(360), 0.15, 0.5)]
    jitter = rng.uniform(-14, 14)
    hue, sat, light = moods[0]
    hue += jitter
    hue2, sat2, light2 = (
        (moods[1][0] + jitter, moods[1][1], moods[1][2])
        if len(moods) > 1
        else (hue + rng.choice((-40, -25, 25, 40)), sat, light)
    )
    hue3, sat3, light3 = (
        (moods[2][0] + jitter, moods[2][1], moods[2][2])
        if len(moods) > 2
        else (hue + 180, max(sat, 0.05), 0.6)
    )
    return _Palette(
        background=(_hsl(hue, sat * 0.55, 0.20), _hsl(hue2, sat2 * 0.5, 0.08)),
        shapes=[
            _hsl(hue, sat, light),
            _hsl(hue2, sat2, light2),
            _hsl(hue3, sat3, light3),
            _hsl(hue, sat * 0.8, min(light + 0.2, 0.8)),
        ],
        accent=_hsl(hue3, max(sat3, 0.05), max(light3, 0.55)),
    )


def _sun(rng: random.Random, p: _Palette) -> list[str]:
    cx, cy, r = rng.uniform(50, 150), rng.uniform(60, 120), rng.uniform(45, 80)
    out = [f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{p.shapes[0]}"/>']
    for i in range(1, 4):
        out.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r + i * 14:.1f}" fill="none" '
            f'stroke="{p.shapes[3]}" stroke-width="{4 - i}" stroke-opacity=".5"/>'
        )
    horizon = rng.uniform(cy + r * 0.2, cy + r * 0.9)
    out.append(
        f'<rect y="{horizon:.1f}" width="{WIDTH}" height="{HEIGHT - horizon:.1f}" '
        f'fill="{p.shapes[1]}" fill-opacity=".85"/>'
    )
    return out


def _stripes(rng: random.Random, p: _Palette) -> list[str]:
    angle = rng.choice((-35, -20, 20, 35, 60))
    count = rng.randrange(5, 10)
    step = 420 / count
    out = [f'<g transform="rotate({angle} 100 150)" fill-opacity=".7">']
    for i in range(count):
        if rng.random() < 0.7:
            w = rng.uniform(step * 0.25, step * 0.8)
            colour = p.shapes[i % 3]
            out.append(
                f'<rect x="{-110 + i * step:.1f}" y="-100" width="{w:.1f}" '
                f'height="500" fill="{colour}"/>'
            )
    out.append("</g>")
    return out


def _mountains(rng: random.Random, p: _Palette) -> list[str]:
    out = [
        f'<circle cx="{rng.uniform(30, 170):.1f}" cy="{rng.uniform(40, 80):.1f}" '
        f'r="{rng.uniform(12, 26):.1f}" fill="{p.shapes[2]}"/>'
    ]
    for layer in range(3):
        base = 120 + layer * 45
        points = [f"0,{HEIGHT}", f"0,{base + rng.uniform(-10, 20):.1f}"]
        x = 0.0
        while x < WIDTH:
            x += rng.uniform(20, 55)
            points.append(f"{min(x, WIDTH):.1f},{base + rng.uniform(-45, 25):.1f}")
        points.append(f"{WIDTH},{HEIGHT}")
        out.append(
            f'<polygon points="{" ".join(points)}" fill="{p.shapes[layer % 2]}" '
            f'fill-opacity="{0.55 + layer * 0.15:.2f}"/>'
        )
    return out


def _dots(rng: random.Random, p: _Palette) -> list[str]:
    gap = rng.choice((20, 25, 33))
    out = []
    for row in range(HEIGHT // gap):
        cy = row * gap + gap / 2
        if not 45 <= cy <= 140:  # clear of the year and of the title
            continue
        for col in range(WIDTH // gap + 1):
            r = gap * rng.uniform(0.08, 0.45)
            colour = p.shapes[rng.randrange(3)]
            out.append(
                f'<circle cx="{col * gap + gap / 2:.1f}" cy="{cy:.1f}" '
                f'r="{r:.1f}" fill="{colour}" fill-opacity=".8"/>'
            )
    return out


def _arcs(rng: random.Random, p: _Palette) -> list[str]:
    cx, cy = rng.choice(((0, 0), (WIDTH, 0), (0, 120), (WIDTH, 120)))
    out = []
    for i in range(9, 0, -1):
        out.append(
            f'<circle cx="{cx}" cy="{cy}" r="{i * 26}" fill="{p.shapes[i % 3]}" '
            f'fill-opacity="{0.35 + 0.06 * (9 - i):.2f}"/>'
        )
    return out


def _shards(rng: random.Random, p: _Palette) -> list[str]:
    out = []
    for i in range(rng.randrange(4, 8)):
        pts = " ".join(
            f"{rng.uniform(-20, 220):.1f},{rng.uniform(-20, 230):.1f}" for _ in range(3)
        )
        out.append(
            f'<polygon points="{pts}" fill="{p.shapes[i % 4]}" fill-opacity=".65"/>'
        )
    return out


_ARTWORK = (_sun, _stripes, _mountains, _dots, _arcs, _shards)
