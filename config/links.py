"""``reverse()`` for the many links of one page.

A home page holds some 200 cards, each linking to its title, its poster and
its "Why this?": resolving each with ``reverse()`` took a fifth of the page's
rendering. :func:`reverse_pk` resolves a URL name once (per URL
configuration and script prefix) and then only formats the id in.
"""

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

#: An id no URL pattern will mistake for anything else.
_MARK = "2147483629"


def reverse_pk(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` for a URL whose one argument is an id."""
    head, tail = _around_pk(
        name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()
    )
    return f"{head}{int(pk)}{tail}"


@lru_cache(maxsize=256)
def _around_pk(name: str, urlconf: str, prefix: str) -> tuple[str, str]:
    head, _, tail = reverse(name, args=[_MARK], urlconf=urlconf).partition(_MARK)
    return head, tail


#: The largest id a row can have (PostgreSQL's bigint).
MAX_ID = 2**63 - 1


def parse_id(raw: object) -> int | None:
    """The id a query string or a form gives, or None when it is not one.

    Only ASCII digits make an id: ``str.isdigit`` also accepts "²" or "①",
    which ``int()`` then refuses (a 500); an id past any row's is none either.
    """
    text = str(raw) if raw is not None else ""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ID else None
