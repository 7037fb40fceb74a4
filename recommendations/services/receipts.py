"""Effect receipts: what a control did to a profile's home rows, measured.

A control that changes recommendations (a hidden genre, "not interested",
personalization, a paused history, exploration, an erasure) is run between two
builds of the profile's real home page (:func:`recommendations.home.page.home_page`,
the same row builders the home page uses, at the same moment), and the two
pages are compared (:func:`rows_diff`). A change of signals (a thumbs down,
an erasure) folds the profile in again before and after, as the worker would
(:func:`recommendations.services.candidates.profile_refresh`), so both pages
come from the same fold-in and the difference is the control's alone.

A preview runs the same control inside a savepoint and rolls it back: the
numbers are those the real change would give, and nothing is kept (its
consent-log line, refresh and cache clean-up go with the savepoint).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from accounts.models import Profile
from recommendations.home.page import home_page
from recommendations.home.rows import HomePage
from recommendations.services.candidates import profile_refresh

T = TypeVar("T")


@dataclass(frozen=True)
class PageRows:
    """A home page reduced to what a receipt compares: each row's key, kind,
    name and title ids, in page order."""

    rows: tuple[tuple[str, str, str, tuple[int, ...]], ...]
    personalized: bool

    @classmethod
    def of(cls, page: HomePage) -> "PageRows":
        return cls(
            rows=tuple(
                (row.key, row.kind, row.name, tuple(t.pk for t in row.titles))
                for row in page.rows
            ),
            personalized=page.personalized,
        )

    def titles(self) -> set[int]:
        return {t for *_, ids in self.rows for t in ids}

    def positions(self) -> dict[int, tuple[int, int]]:
        """Where each title first shows: (row number, place in the row)."""
        out: dict[int, tuple[int, int]] = {}
        for r, (*_, ids) in enumerate(self.rows):
            for c, t in enumerate(ids):
                out.setdefault(t, (r, c))
        return out


@dataclass(frozen=True)
class RowChange:
    """One row of the page before the change and what happened to its titles."""

    key: str
    kind: str
    name: str
    titles: int  # titles in the row before
    left_page: int  # of them, titles on no row after
    left_row: int  # of them, titles no longer in this row (moved or gone)


@dataclass(frozen=True)
class RowsDiff:
    """The difference between a profile's home page before and after a change."""

    before: int  # distinct titles on the page before
    after: int  # ...and after
    removed: frozenset[int]  # on the page before, on no row after
    added: frozenset[int]  # on no row before, on the page after
    moved_down: frozenset[int]  # on both, first shown further down or right
    moved_up: frozenset[int]
    rows: tuple[RowChange, ...]  # the rows before, in page order
    personalized_before: bool
    personalized_after: bool

    @property
    def changed(self) -> int:
        """Titles that left or came onto the page."""
        return len(self.removed) + len(self.added)

    def row_of_kind(self, kind: str) -> RowChange | None:
        return next((row for row in self.rows if row.kind == kind), None)


def rows_diff(before: PageRows, after: PageRows) -> RowsDiff:
    """What changed from ``before`` to ``after`` (pure: no query)."""
    was, now = before.titles(), after.titles()
    removed, added = was - now, now - was
    old_pos, new_pos = before.positions(), after.positions()
    both = was & now
    after_rows = {key: set(ids) for key, _, _, ids in after.rows}
    return RowsDiff(
        before=len(was),
        after=len(now),
        removed=frozenset(removed),
        added=frozenset(added),
        moved_down=frozenset(t for t in both if new_pos[t] > old_pos[t]),
        moved_up=frozenset(t for t in both if new_pos[t] < old_pos[t]),
        rows=tuple(
            RowChange(
                key=key,
                kind=kind,
                name=name,
                titles=len(ids),
                left_page=sum(t in removed for t in ids),
                left_row=sum(t not in after_rows.get(key, ()) for t in ids),
            )
            for key, kind, name, ids in before.rows
        ),
        personalized_before=before.personalized,
        personalized_after=after.personalized,
    )


def profile_rows(profile_id: int, *, now: datetime) -> PageRows:
    """The profile's home page as it would be built now (no mood, no device)."""
    profile = Profile.objects.select_related("privacy").get(pk=profile_id)
    return PageRows.of(home_page(profile=profile, now=now))


def rows_effect(
    *,
    profile_id: int,
    change: Callable[[Profile], T],
    refold: bool = False,
    keep: bool = True,
    now: datetime | None = None,
) -> tuple[RowsDiff, T]:
    """Runs ``change`` on the profile between two builds of its home rows.

    ``refold``: the change alters the profile's signals, so its candidates are
    folded in afresh before and after (the worker's refresh, done here).
    ``keep=False`` is a preview: everything is rolled back, the numbers stay.
    Returns the difference and what ``change`` returned.
    """
    now = now or timezone.now()
    with transaction.atomic():
        savepoint = transaction.savepoint()
        if refold:
            profile_refresh(profile_id=profile_id)
        before = profile_rows(profile_id, now=now)
        result = change(Profile.objects.select_related("privacy").get(pk=profile_id))
        if refold:
            profile_refresh(profile_id=profile_id)
        after = profile_rows(profile_id, now=now)
        if keep:
            transaction.savepoint_commit(savepoint)
        else:
            transaction.savepoint_rollback(savepoint)
    return rows_diff(before, after), result
