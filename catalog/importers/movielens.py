"""Readers for the MovieLens file formats; no database access here.

Three layouts are recognised from the files present in a folder:

* ``csv``: ml-latest-small, ml-latest, ml-20m, ml-25m (``movies.csv``,
  ``ratings.csv``, optional ``tags.csv`` and ``links.csv``, with headers);
* ``100k``: ml-100k (``u.item`` pipe-separated, ``u.data`` tab-separated,
  Latin-1; ``u.user`` holds demographics: only the zip code is read, by
  :func:`read_users`, to seed a demo's regions);
* ``dat``: ml-1m, ml-10m (``movies.dat``, ``ratings.dat``, optional
  ``tags.dat``, ``::``-separated).

Every reader yields plain records and raises :class:`MovieLensFormatError`
naming the file and line of the first malformed row.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from activity.models import RATING_VALUES
from catalog.titles import CleanTitle, clean_movielens_title

# ml-100k's u.item genre flags, in file order (u.genre repeats this list).
GENRES_100K = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]
# Older files spell a few genres differently from ml-latest.
_GENRE_ALIASES = {"Children's": "Children"}
_NO_GENRE = {"(no genres listed)", "unknown", ""}
_RATING_SET = frozenset(RATING_VALUES)
# A UTF-8 byte-order mark as it reads when the file is decoded as Latin-1 (ratings).
_LATIN1_BOM = "\ufeff".encode().decode("latin-1")


class MovieLensFormatError(Exception):
    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path.name}, line {line}: {message}")


@dataclass(frozen=True)
class Movie:
    movie_id: int
    clean: CleanTitle
    genres: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    movie_id: int
    imdb_id: str
    tmdb_id: int | None


@dataclass(frozen=True)
class RatingRow:
    line: int
    user_id: int
    movie_id: int
    value: float
    at: datetime


@dataclass(frozen=True)
class TagRow:
    line: int
    user_id: int
    movie_id: int
    tag: str
    at: datetime


@dataclass(frozen=True)
class Layout:
    kind: str  # "csv", "100k" or "dat"
    movies: Path
    ratings: Path
    tags: Path | None = None
    links: Path | None = None

    @property
    def shares_movielens_ids(self) -> bool:
        """ml-100k numbers its items on its own; the others use MovieLens movieIds."""
        return self.kind != "100k"


def detect_layout(folder: Path) -> Layout:
    def opt(name: str) -> Path | None:
        return folder / name if (folder / name).is_file() else None

    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder.")
    if opt("movies.csv") and opt("ratings.csv"):
        return Layout(
            "csv",
            folder / "movies.csv",
            folder / "ratings.csv",
            opt("tags.csv"),
            opt("links.csv"),
        )
    if opt("u.item") and opt("u.data"):
        return Layout("100k", folder / "u.item", folder / "u.data")
    if opt("movies.dat") and opt("ratings.dat"):
        return Layout(
            "dat", folder / "movies.dat", folder / "ratings.dat", opt("tags.dat")
        )
    raise FileNotFoundError(
        f"No MovieLens files in {folder}: expected movies.csv + ratings.csv "
        "(ml-latest, ml-20m, ml-25m), u.item + u.data (ml-100k) or "
        "movies.dat + ratings.dat (ml-1m, ml-10m)."
    )


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _text_lines(path: Path) -> Iterator[str]:
    """Lines of a small text file: UTF-8 if it decodes, else Latin-1 (older sets)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return iter(io.StringIO(text, newline=""))


def _int(path: Path, line: int, name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise MovieLensFormatError(
            path, line, f"{name} must be a whole number, got {raw!r}"
        ) from None


def _rating(path: Path, line: int, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise MovieLensFormatError(
            path, line, f"rating must be a number, got {raw!r}"
        ) from None
    if value not in _RATING_SET:
        raise MovieLensFormatError(
            path, line, f"rating {raw} is outside 0.5–5.0 in half stars"
        )
    return value


def _time(path: Path, line: int, raw: str) -> datetime:
    seconds = _int(path, line, "timestamp", raw)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MovieLensFormatError(
            path, line, f"timestamp {raw} is out of range"
        ) from None


def _genres(names: list[str]) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(_GENRE_ALIASES.get(n, n) for n in names if n not in _NO_GENRE)
    )


def _csv_rows(
    path: Path, required: tuple[str, ...], lines
) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise MovieLensFormatError(path, 1, "the file is empty")
    header = [h.strip().lstrip("\ufeff").removeprefix(_LATIN1_BOM) for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise MovieLensFormatError(
            path, 1, f"missing column {', '.join(missing)} (found {', '.join(header)})"
        )
    index = [header.index(c) for c in required]
    width = len(header)
    for row in reader:
        if not row:
            continue
        if len(row) != width:
            raise MovieLensFormatError(
                path, reader.line_num, f"expected {width} fields, found {len(row)}"
            )
        yield reader.line_num, [row[i] for i in index]


def _split_rows(
    path: Path, sep: str, width: int, lines
) -> Iterator[tuple[int, list[str]]]:
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not line:
            continue
        fields = line.split(sep)
        if len(fields) != width:
            raise MovieLensFormatError(
                path,
                number,
                f"expected {width} fields separated by {sep!r}, found {len(fields)}",
            )
        yield number, fields


def read_movies(layout: Layout) -> Iterator[Movie]:
    first_seen: dict[int, int] = {}
    for line, movie in _movie_rows(layout):
        if movie.movie_id in first_seen:
            raise MovieLensFormatError(
                layout.movies,
                line,
                f"movie id {movie.movie_id} repeats line {first_seen[movie.movie_id]}",
            )
        first_seen[movie.movie_id] = line
        yield movie


def _movie_rows(layout: Layout) -> Iterator[tuple[int, Movie]]:
    path = layout.movies
    if layout.kind == "csv":
        rows = _csv_rows(path, ("movieId", "title", "genres"), _text_lines(path))
        for line, (mid, title, genres) in rows:
            yield (
                line,
                Movie(
                    _int(path, line, "movieId", mid),
                    clean_movielens_title(title),
                    _genres(genres.split("|")),
                ),
            )
    elif layout.kind == "dat":
        for line, (mid, title, genres) in _split_rows(path, "::", 3, _text_lines(path)):
            yield (
                line,
                Movie(
                    _int(path, line, "MovieID", mid),
                    clean_movielens_title(title),
                    _genres(genres.split("|")),
                ),
            )
    else:
        width = 5 + len(GENRES_100K)
        for line, fields in _split_rows(path, "|", width, _text_lines(path)):
            flags = fields[5:]
            if any(f not in ("0", "1") for f in flags):
                raise MovieLensFormatError(path, line, "genre flags must be 0 or 1")
            clean = clean_movielens_title(fields[1])
            if clean.year is None and fields[2][-4:].isdigit():
                clean = replace(clean, year=int(fields[2][-4:]))
            genres = [
                g for g, flag in zip(GENRES_100K, flags, strict=True) if flag == "1"
            ]
            yield (
                line,
                Movie(_int(path, line, "movie id", fields[0]), clean, _genres(genres)),
            )


def read_links(layout: Layout) -> Iterator[Link]:
    if layout.links is None:
        return
    path = layout.links
    for line, (mid, imdb, tmdb) in _csv_rows(
        path, ("movieId", "imdbId", "tmdbId"), _text_lines(path)
    ):
        yield Link(
            _int(path, line, "movieId", mid),
            f"tt{_int(path, line, 'imdbId', imdb):07d}" if imdb else "",
            _int(path, line, "tmdbId", tmdb) if tmdb else None,
        )


@dataclass(frozen=True)
class UserRow:
    user_id: int
    occupation: str
    zip_code: str


def read_users(folder: Path) -> Iterator[UserRow]:
    """The demographics of ml-100k (``u.user``: id|age|gender|occupation|zip)
    or ml-1m (``users.dat``: id::gender::age::occupation::zip), when present;
    nothing for the sets without them (ml-latest, ml-20m, ml-25m). Only what
    seeds a demo's regions is read: the zip code (and occupation, kept as
    given, a number in ml-1m)."""
    for name, sep, occupation_at in (("u.user", "|", 3), ("users.dat", "::", 3)):
        path = folder / name
        if not path.is_file():
            continue
        for n, raw in enumerate(_text_lines(path), start=1):
            raw = raw.strip()
            if not raw:
                continue
            fields = raw.split(sep)
            if len(fields) != 5:
                raise MovieLensFormatError(path, n, "expected 5 fields.")
            yield UserRow(
                user_id=_int(path, n, "user id", fields[0]),
                occupation=fields[occupation_at],
                zip_code=fields[4],
            )
        return


def read_ratings(layout: Layout) -> Iterator[RatingRow]:
    path = layout.ratings
    # Ratings are numbers only: Latin-1 reads any byte, streaming large files.
    with path.open(encoding="latin-1", newline="") as fh:
        if layout.kind == "csv":
            rows = _csv_rows(path, ("userId", "movieId", "rating", "timestamp"), fh)
        else:
            rows = _split_rows(path, "\t" if layout.kind == "100k" else "::", 4, fh)
        for line, (uid, mid, value, ts) in rows:
            yield RatingRow(
                line,
                _int(path, line, "user id", uid),
                _int(path, line, "movie id", mid),
                _rating(path, line, value),
                _time(path, line, ts),
            )


def read_tags(layout: Layout) -> Iterator[TagRow]:
    if layout.tags is None:
        return
    path = layout.tags
    lines = _text_lines(path)
    if layout.kind == "csv":
        rows = _csv_rows(path, ("userId", "movieId", "tag", "timestamp"), lines)
    else:
        rows = _split_rows(path, "::", 4, lines)
    for line, (uid, mid, tag, ts) in rows:
        tag = " ".join(tag.split())[:255]
        if tag:
            yield TagRow(
                line,
                _int(path, line, "user id", uid),
                _int(path, line, "movie id", mid),
                tag,
                _time(path, line, ts),
            )
