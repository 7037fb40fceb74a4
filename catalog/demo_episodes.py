"""Seasons and episodes for the demo catalog's series (no Django, like ``demo``).

A series gets one season per year it ran (at most :data:`MAX_SEASONS`; a
running one, up to the catalog's last year), each of 6 to 10 episodes (8 to
12 for half-hour genres), runtimes close to the series' typical one. Episode
titles never repeat within a series and synopses never repeat within the
catalog's series: each is drawn without replacement from the combinations of
the lists below. The draw depends only on ``seed`` and the series' place in
the catalog, so the same seed gives the same episodes.
"""

from dataclasses import dataclass
from itertools import product

import numpy as np

from catalog.demo import _SHORT_EPISODES, YEARS, DemoTitle

MAX_SEASONS = 5
EPISODES = (6, 10)
SHORT_EPISODES = (8, 12)
MIN_RUNTIME = 15

_ADJECTIVES = (
    "Quiet", "Broken", "Last", "Second", "Hidden", "Long", "Silver", "Northern",
    "Empty", "Burning", "Lost", "Borrowed", "Crooked", "Distant", "Hollow",
    "Open", "Narrow", "Sleeping", "Winter", "Paper", "Glass", "Iron", "Velvet",
    "Restless", "Crimson", "Salt", "Little", "Endless", "Midnight", "Wild",
)  # fmt: skip
_NOUNS = (
    "Harbour", "Promise", "Door", "Witness", "Letter", "Bridge", "Signal",
    "Garden", "Debt", "Crossing", "Alibi", "Orchard", "Lantern", "Verdict",
    "Tide", "Archive", "Station", "Map", "Chorus", "Border", "Engine", "Vow",
    "Mirror", "Frontier", "Reunion", "Ledger", "Storm", "Ferry", "Key", "Feast",
)  # fmt: skip
_WHO = (
    "Mara", "Theo", "Ines", "Jonah", "Priya", "Felix", "Noor", "Callum",
    "Ada", "Rafael", "Yuki", "Hattie", "Osman", "Lena", "Dev", "Rosa",
)  # fmt: skip
_DOES = (
    "finds a letter that was never sent",
    "takes the night shift alone",
    "owes the wrong person a favour",
    "returns to the town they left",
    "keeps a secret from the whole family",
    "follows a stranger onto the last train",
    "is offered a deal that sounds too good",
    "loses the one thing they swore to protect",
    "hears a voice on an old recording",
    "breaks a promise made years ago",
    "is asked to lie under oath",
    "opens a door everyone else avoids",
)
_THEN = (
    "while the storm closes every road",
    "and an old rival comes calling",
    "before the festival begins",
    "as the money starts to run out",
    "and nobody believes what they saw",
    "while a wedding goes badly wrong",
    "as the harbour freezes over",
    "and the neighbours start to talk",
    "while the election draws near",
    "and a child goes missing",
)
_WHERE = (
    "In Lisbon,", "Up north,", "At the hotel,", "On the island,", "In the city,",
    "Back home,", "At the docks,", "Out on the farm,", "At the school,",
    "In the old theatre,", "Across the border,", "Down by the river,",
)  # fmt: skip


@dataclass(frozen=True)
class DemoEpisode:
    number: int  # from 1, within its season
    title: str
    runtime_minutes: int
    synopsis: str


@dataclass(frozen=True)
class DemoSeason:
    number: int  # from 1
    episodes: tuple[DemoEpisode, ...]


_TITLES = [f"The {a} {n}" for a, n in product(_ADJECTIVES, _NOUNS)]
#: 23,040 synopses: a default catalog's ~8,000 episodes never repeat one (a
#: catalog with more episodes than that starts over).
_SYNOPSES = [f"{p} {w} {d} {t}." for p, w, d, t in product(_WHERE, _WHO, _DOES, _THEN)]


def demo_seasons(
    titles: tuple[DemoTitle, ...] | list[DemoTitle], *, seed: int
) -> dict[int, tuple[DemoSeason, ...]]:
    """The seasons of each series in ``titles``, by its index there."""
    synopses = np.random.default_rng([seed, 0]).permutation(len(_SYNOPSES))
    used = 0
    out: dict[int, tuple[DemoSeason, ...]] = {}
    for index, title in enumerate(titles):
        if title.kind != "series":
            continue
        rng = np.random.default_rng([seed, index + 1])
        last_year = title.end_year or YEARS[1]
        count = int(rng.integers(1, min(last_year - title.year + 1, MAX_SEASONS) + 1))
        low, high = SHORT_EPISODES if title.genres[0] in _SHORT_EPISODES else EPISODES
        sizes = rng.integers(low, high + 1, size=count)
        names = rng.choice(len(_TITLES), size=int(sizes.sum()), replace=False)
        seasons = []
        k = 0
        for season, size in enumerate(sizes, start=1):
            episodes = []
            for number in range(1, int(size) + 1):
                runtime = title.runtime_minutes + int(rng.integers(-4, 5))
                synopsis = _SYNOPSES[synopses[used % len(_SYNOPSES)]]
                used += 1
                episodes.append(
                    DemoEpisode(
                        number=number,
                        title="Pilot" if season == number == 1 else _TITLES[names[k]],
                        runtime_minutes=max(MIN_RUNTIME, runtime),
                        synopsis=synopsis,
                    )
                )
                k += 1
            seasons.append(DemoSeason(number=season, episodes=tuple(episodes)))
        out[index] = tuple(seasons)
    return out
