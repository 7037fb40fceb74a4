"""Request text that no view should have to defend itself against.

Python decodes whatever JSON says, and some of it cannot go further:

- ``"\\u0000"`` becomes a NUL character, which PostgreSQL refuses in a text
  column (a ``DataError``: a 500 where a 400 was due);
- ``"\\ud800"`` becomes a lone surrogate, which no UTF-8 encoder accepts, so
  even the error message echoing it back fails (a ``UnicodeEncodeError``);
- ``[[[[...`` nested fifty thousand deep makes the decoder recurse until a
  ``RecursionError``.

:func:`json_problem` and :func:`text_problem` name what is wrong with decoded
data (or return ``None``); :class:`JSONParser`, DRF's default parser here,
answers such a body with a 400, and so does
:class:`config.middleware.HostileInputMiddleware` for every view.
"""

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

#: How deeply a JSON body may nest arrays and objects. Marquee's own API takes
#: flat objects; 32 leaves room for any client that wraps them.
MAX_JSON_DEPTH = 32


def text_problem(text: str) -> str | None:
    """What makes ``text`` unusable (a NUL, a lone surrogate), or ``None``."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode)"
    return None


def bytes_problem(raw: bytes) -> str | None:
    """What makes ``raw`` unusable as text (a NUL, not UTF-8), or ``None``."""
    if b"\x00" in raw:
        return "contains a NUL character"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    return None


def json_problem(data: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """What makes decoded JSON ``data`` unusable, or ``None``.

    Walks the document without recursion: too deep, or a key or string with
    a NUL or a lone surrogate.
    """
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if problem := text_problem(value):
                return f"a string that {problem}"
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                return f"nesting deeper than {max_depth} levels"
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering 400 to what :func:`json_problem` refuses.

    A document too deep for Python's decoder (a ``RecursionError``) is refused
    the same way, instead of a 500.
    """

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"JSON parse error - nesting deeper than {self.max_depth} levels."
            ) from None
        if problem := json_problem(data, self.max_depth):
            raise ParseError(f"JSON parse error - the body has {problem}.")
        return data
