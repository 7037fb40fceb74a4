"""The rows everyone of an audience gets: trending, the Top 10, new titles,
popular genres and the curators' collections.

A profile's page has them too: then they leave out what the profile rated or
played, carry curators' boosts, and name its favourite genres.
"""

import numpy as np
from django.urls import reverse

from catalog.models import Collection, CollectionItem
from recommendations.home.rows import (
    NEW_MIN_RATINGS,
    POPULAR_GENRE_ROWS,
    ROW_LENGTH,
    RowDraft,
    RowInputs,
    ratings_label,
)
from recommendations.home.snapshot import TOP10_LENGTH, charts
from recommendations.services.regions import MIN_PROFILES, region_chart


class SharedRows(RowInputs):
    """Builders of the rows everyone of an audience gets; each returns a
    :class:`RowDraft` (or None, or a list of them)."""

    def trending(self) -> RowDraft | None:
        found = charts().trending
        pos = self.snap.index([t for t, _ in found])
        scores = np.array([s for _, s in found], dtype=np.float64)
        ok = pos >= 0
        pos, scores = pos[ok], scores[ok]
        keep = self.recommendable[pos]
        pos, scores = pos[keep], scores[keep]
        pos = self.ranked(pos, scores, boost=self.personal)
        top = self.top_genres()
        why = {}
        for p in pos[: 3 * ROW_LENGTH]:
            genre = self.main_genre(p, top)
            why[int(self.snap.ids[p])] = f"Trending in {genre}" if genre else "Trending"
        return RowDraft(
            slot="trending",
            key="trending",
            kind="trending",
            name="Trending now",
            reason="What viewers are watching and rating most this week.",
            ids=self.ids(pos[: 3 * ROW_LENGTH]),
            why=why,
        )

    def top10(self) -> RowDraft | None:
        pos = self.snap.index(charts().top10)
        pos = pos[pos >= 0]
        pos = pos[self.recommendable[pos]][:TOP10_LENGTH]
        ids = self.ids(pos)
        return RowDraft(
            slot="top10",
            key="top10",
            kind="top10",
            name="Top 10 today",
            reason="The most watched and rated titles of the day.",
            ids=ids,
            why={t: f"#{n} today" for n, t in enumerate(ids, start=1)},
            ranks={t: n for n, t in enumerate(ids, start=1)},
            max_len=TOP10_LENGTH,
            min_len=3,
        )

    def new(self) -> RowDraft | None:
        snap = self.snap
        pos = np.flatnonzero(self.recommendable)
        if len(pos) == 0:
            return None
        # lexsort: the last key sorts first.
        order = np.lexsort(
            (
                snap.ids[pos],
                -snap.rating_count[pos],
                -snap.year[pos],
                -snap.added_day[pos],
                snap.rating_count[pos] < NEW_MIN_RATINGS,
            )
        )
        pos = self.by_rank(pos[order][: 3 * ROW_LENGTH], boost=self.personal)
        why = {
            int(snap.ids[p]): f"New · {snap.year[p]}" if snap.year[p] else "New"
            for p in pos
        }
        return RowDraft(
            slot="new",
            key="new",
            kind="new",
            name="New on Marquee",
            reason="Just added, and the most recent releases.",
            ids=self.ids(pos),
            why=why,
            more_url=reverse("catalog:genres"),
        )

    def popular_in_region(self) -> RowDraft | None:
        if self.region is None:
            return None
        chart = region_chart(region=self.region.code)
        if not chart.titles:
            return None
        pos = self.snap.index([t for t, _ in chart.titles])
        liked = np.array([n for _, n in chart.titles], dtype=np.float64)
        ok = pos >= 0
        pos, liked = pos[ok], liked[ok]
        keep = self.recommendable[pos]
        pos = self.ranked(pos[keep], liked[keep], boost=self.personal)
        return RowDraft(
            slot="region",
            key="region",
            kind="region",
            name=f"Popular in {self.region.name}",
            reason=f"What viewers who share their region as {self.region.name} "
            "like most; shown only when at least "
            f"{MIN_PROFILES} of them take part.",
            ids=self.ids(pos[: 3 * ROW_LENGTH]),
            why={
                int(self.snap.ids[p]): f"Liked in {self.region.name}"
                for p in pos[: 3 * ROW_LENGTH]
            },
        )

    def popular_genres(self) -> list[RowDraft]:
        snap = self.snap
        if not snap.genre_order:
            return []
        members = snap.features[self.recommendable]
        counts = snap.rating_count[self.recommendable]
        popularity = counts @ members  # ratings per genre
        sizes = members.sum(axis=0)
        order = sorted(
            (j for j in range(len(snap.genre_order)) if sizes[j] > 0),
            key=lambda j: (
                -popularity[j],
                -sizes[j],
                snap.genre_names[snap.genre_order[j]],
            ),
        )
        drafts = []
        for n, j in enumerate(order[:POPULAR_GENRE_ROWS]):
            g = snap.genre_order[j]
            pos = np.flatnonzero(self.recommendable & (snap.features[:, j] > 0))
            pos = pos[np.lexsort((snap.ids[pos], -snap.rating_count[pos]))]
            pos = self.by_rank(pos[: 3 * ROW_LENGTH])
            name = snap.genre_names[g]
            drafts.append(
                RowDraft(
                    slot=f"genre-{n}",
                    key=f"genre-{snap.genre_slugs[g]}",
                    kind="genre",
                    name=f"Popular in {name}",
                    reason=f"The most rated {name} titles on Marquee.",
                    ids=self.ids(pos),
                    why={int(snap.ids[p]): ratings_label(snap, p) for p in pos},
                    more_url=reverse("catalog:genre", args=[snap.genre_slugs[g]]),
                )
            )
        return drafts

    def collection_drafts(self) -> list[RowDraft]:
        audience_ok = [Collection.Audience.EVERYONE]
        if self.kids:
            audience_ok.append(Collection.Audience.KIDS)
        if self.personal:
            audience_ok.append(Collection.Audience.GENRES)
        collections = list(
            Collection.objects.active(self.now)
            .filter(audience__in=audience_ok)
            .prefetch_related("audience_genres")
        )
        if not collections:
            return []
        top = set(self.top_genres())
        items: dict[int, list[int]] = {}
        for collection_id, title_id in (
            CollectionItem.objects.filter(collection__in=collections)
            .order_by("position", "id")
            .values_list("collection_id", "title_id")
        ):
            items.setdefault(collection_id, []).append(title_id)
        drafts = []
        for c in collections:
            if c.audience == Collection.Audience.GENRES:
                wanted = {g.pk for g in c.audience_genres.all()}
                if not wanted & top:
                    continue
            pos = self.snap.index(items.get(c.pk, []))
            pos = pos[pos >= 0]
            pos = pos[self.recommendable[pos]]
            pos = self.by_rank(pos, boost=self.personal)
            drafts.append(
                RowDraft(
                    slot="collection",
                    key=f"collection-{c.slug}",
                    kind="collection",
                    name=c.name,
                    reason=c.description or "Picked by our editors.",
                    ids=self.ids(pos),
                    why={int(self.snap.ids[p]): "Picked by our editors" for p in pos},
                    min_len=1,
                    pinned=c.position,
                )
            )
        return drafts
