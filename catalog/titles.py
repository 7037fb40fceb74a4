"""Cleaning MovieLens-style titles into display and sort titles.

"City of Lost Children, The (Cité des enfants perdus, La) (1995)" becomes
display "The City of Lost Children", alternative "La Cité des enfants perdus",
year 1995, sort "city of lost children". A year range such as "(2007-)" marks
a series.
"""

import re
from dataclasses import dataclass

# Articles MovieLens moves to the end ("Matrix, The"), in the languages it uses.
_ARTICLES = [
    "The",
    "A",
    "An",
    "La",
    "Le",
    "Les",
    "L'",
    "Il",
    "Lo",
    "Gli",
    "I",
    "El",
    "Los",
    "Las",
    "Un",
    "Une",
    "Der",
    "Die",
    "Das",
    "Den",
    "Det",
    "De",
    "Het",
    "Ein",
    "Eine",
    "En",
    "Et",
    "O",
    "Os",
    "As",
    "Ta",
    "Hai",
]
_SUFFIX_ARTICLE = re.compile(
    r"^(?P<body>.+), (?P<article>" + "|".join(re.escape(a) for a in _ARTICLES) + r")$"
)
_YEAR = re.compile(r"\s*\((?P<year>\d{4})(?P<dash>\s*[-–]\s*(?P<end>\d{4})?)?\)\s*$")
_AKA = re.compile(r"^(a\.k\.a\.|aka)\s+", re.IGNORECASE)
_ENGLISH_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class CleanTitle:
    title: str
    sort_title: str
    alternative_title: str = ""
    year: int | None = None
    end_year: int | None = None
    is_series: bool = False


def _front_article(text: str) -> tuple[str, str]:
    """'Matrix, The' -> ('The Matrix', 'The'); text without one is unchanged."""
    match = _SUFFIX_ARTICLE.match(text)
    if not match:
        return text, ""
    article = match["article"]
    joiner = "" if article.endswith("'") else " "
    return f"{article}{joiner}{match['body']}", article


def _split_trailing_group(text: str) -> tuple[str, str]:
    """'Seven (Se7en)' -> ('Seven', 'Se7en'); balanced parentheses, last group."""
    if not text.endswith(")"):
        return text, ""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                head = text[:i].strip()
                return (head, text[i + 1 : -1].strip()) if head else (text, "")
    return text, ""


def sort_title_for(title: str, article: str = "") -> str:
    """Lower-cased title without its leading article, for A–Z ordering."""
    if article and title.startswith(article):
        stripped = title[len(article) :].lstrip()
    else:
        stripped = _ENGLISH_ARTICLE.sub("", title)
    return (stripped or title).casefold()[:255]


def clean_movielens_title(raw: str) -> CleanTitle:
    text = " ".join(raw.split())
    year = end_year = None
    is_series = False
    match = _YEAR.search(text)
    if match:
        year = int(match["year"])
        is_series = bool(match["dash"])
        end_year = int(match["end"]) if match["end"] else None
        text = text[: match.start()].strip()
    main, alternative = _split_trailing_group(text)
    main, article = _front_article(main)
    alternative, _ = _front_article(_AKA.sub("", alternative))
    return CleanTitle(
        title=main[:255],
        sort_title=sort_title_for(main, article),
        alternative_title=alternative[:255],
        year=year,
        end_year=end_year,
        is_series=is_series,
    )
