"""The home page's cache: where a page is kept, and the rows' HTML kept there.

A page is cached as rendered HTML (:class:`CachedRows`) under :func:`page_key`:
rows the same for everyone under one key per audience, a profile's own rows
under a key that changes whenever anything they are built from does. A warm
page then costs the candidates' version (one query) and a check that no title
shown was withdrawn since (one query). The forms inside cached rows get each
request's CSRF token when served (:meth:`CachedRows.html_for`).

The page as built (:class:`~recommendations.home.rows.HomePage`) is kept
next to its HTML (:func:`cached_page`): the API's home page is that page as
JSON, so the API and the browser show the same rows from one build.
:func:`pages_forget` deletes a profile's cached pages (an erasure).
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Profile
from activity.selectors import row_controls
from catalog.models import Title
from catalog.selectors import catalog_version
from consent.models import PrivacySettings
from consent.policy import settings_for
from recommendations.home.page import (
    SAVED,
    Tuning,
    context_bucket,
    context_for,
    home_page,
    new_profile_note,
    no_model_note,
    personalization_off_note,
)
from recommendations.home.rows import HomePage
from recommendations.models import ProfileCandidates
from recommendations.services import experiments, training

#: How long a profile's rows stay cached (curated collections and trending
#: change without touching the profile); rows everyone gets, five minutes.
PERSONAL_SECONDS = 10 * 60
SHARED_SECONDS = 5 * 60
#: Where the cached rows' forms get the request's CSRF token.
CSRF_MARK = "<!--csrf-input-->"
BUBBLE_SEGMENTS = 6


@dataclass(frozen=True)
class CachedRows:
    """The rows of a home page as cached: their HTML and what the page needs
    to know about them without building them."""

    html: str
    title_ids: list[int]
    note: str
    personalized: bool
    row_keys: list[str]
    #: Every card as shown (``HomePage.cards()`` as plain tuples), and what
    #: built them: a cached page still records its impressions
    #: (``recommendations.services.impressions.page_view_record``).
    cards: list[tuple[str, int, int, int, str]]
    model_version_id: int | None
    experiment_id: int | None
    arm: str

    def html_for(self, csrf_token: str) -> SafeString:
        """The HTML with this request's CSRF token in the rows' forms."""
        field = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">',
            csrf_token,
        )
        return mark_safe(self.html.replace(CSRF_MARK, field))


def cached_rows(*, profile: Profile | None, mood: str, device: str) -> CachedRows:
    """The rows of the home page, from the cache or built, rendered and cached.

    A cached page that shows a title withdrawn since is built again; the
    note of a page shared by an audience is the profile's own.
    """
    key = page_key(profile=profile, mood=mood, device=device)
    cached = cache.get(key.key)
    if cached is not None and withdrawn(cached.title_ids):
        cached = None
    if cached is None:
        page = _build(key, profile=profile, mood=mood, device=device, tuning=SAVED)
        cached = CachedRows(
            html=_render_rows(page),
            title_ids=page.title_ids,
            note="" if key.shared else page.note,
            personalized=page.personalized,
            row_keys=[row.key for row in page.rows],
            cards=[tuple(card) for card in page.cards()],
            model_version_id=page.model_version_id,
            experiment_id=page.experiment_id,
            arm=page.arm,
        )
        cache.set(key.key, cached, _seconds(key))
    if key.note is not None:
        cached = replace(cached, note=key.note)
    return cached


def cached_page(
    *, profile: Profile, mood: str, device: str, tuning: Tuning = SAVED
) -> HomePage:
    """The home page as built, from the cache or built (and cached).

    The same build as :func:`cached_rows`' HTML under the same key, so the
    API's rows are the browser's; ``tuning`` (the controls' values for this
    page alone) keys a page of its own. Raises ``page.UnknownMood``.
    """
    key = page_key(profile=profile, mood=mood, device=device, tuning=tuning)
    page = cache.get(_page_key(key))
    if page is not None and withdrawn(page.title_ids):
        page = None
    if page is None:
        page = _build(key, profile=profile, mood=mood, device=device, tuning=tuning)
    if key.note is not None:
        page = replace(page, note=key.note)
    return page


def _build(
    key: "PageKey",
    *,
    profile: Profile | None,
    mood: str,
    device: str,
    tuning: Tuning,
) -> HomePage:
    """Builds the page, and keeps it (for :func:`cached_page`) under ``key``;
    a profile's own page is remembered for :func:`pages_forget`."""
    page = home_page(profile=profile, mood=mood or None, device=device, tuning=tuning)
    cache.set(_page_key(key), page, _seconds(key))
    if not key.shared:
        page_remember(profile_id=profile.pk, key=key.key)
    return page


#: Part of every key: bumped whenever what is cached changes shape (v2: each
#: card knows its row, for "Why this?"; v3: the cards and what built them,
#: for impressions), so the code of a new release never reads a page the old
#: code cached.
PAGE_FORMAT = "v3"


def _page_key(key: "PageKey") -> str:
    """Where the page as built is kept, next to its HTML (``key.key``)."""
    return f"{key.key}:page"


def _seconds(key: "PageKey") -> int:
    return SHARED_SECONDS if key.shared else PERSONAL_SECONDS


def _render_rows(page: HomePage) -> str:
    return render_to_string(
        "recommendations/_rows.html",
        {
            "page": page,
            "bubble": _bubble_bars(page.bubble),
            "csrf_mark": mark_safe(CSRF_MARK),
        },
    )


def _bubble_bars(bubble: list[tuple[str, float, float]]) -> dict | None:
    """The bubble meter's two bars (shown, catalog) as SVG segments: the
    genres most shown, each in its own colour, and "Other"."""
    if not bubble:
        return None
    top = bubble[:BUBBLE_SEGMENTS]
    other_shown = max(0.0, 1.0 - sum(b[1] for b in top))
    other_catalog = max(0.0, 1.0 - sum(b[2] for b in top))
    labels = [(name, shown, whole) for name, shown, whole in top]
    if other_shown > 0.005 or other_catalog > 0.005:
        labels.append(("Other", other_shown, other_catalog))

    def bar(column: int) -> list[dict]:
        x, segments = 0.0, []
        for n, label in enumerate(labels):
            width = round(label[column] * 100, 2)
            if width > 0:
                segments.append(
                    {"x": round(x, 2), "width": width, "colour": n, "name": label[0]}
                )
            x += width
        return segments

    return {
        "shown": bar(1),
        "catalog": bar(2),
        "legend": [
            {
                "name": name,
                "shown": round(shown * 100),
                "catalog": round(whole * 100),
                "colour": n,
            }
            for n, (name, shown, whole) in enumerate(labels)
        ],
        "top": labels[0][0],
        "top_shown": round(labels[0][1] * 100),
        "top_catalog": round(labels[0][2] * 100),
    }


# --- where a page is cached ----------------------------------------------------


@dataclass(frozen=True)
class PageKey:
    """Where a home page is cached, and its note when known without building it."""

    key: str
    shared: bool
    note: str | None = None


def page_key(
    *,
    profile: Profile | None,
    mood: str | None,
    now: datetime | None = None,
    device: str = "",
    tuning: Tuning = SAVED,
) -> PageKey:
    """The cache key of the home page as :func:`home_page` would build it now.

    Rows the same for everyone are keyed by audience (kids or not), the
    profile's hard filters and "show fewer" titles, and mood. A profile's own rows are keyed by everything they are
    built from that can change in another process: the model version and
    time of its candidates (one query), ``Profile.activity_changed_at``
    (every write of its signals touches it), its settings' ``updated_at``,
    the mood and the context bucket, and the ``tuning`` a page was asked
    with, and the test and arm it is in (so cached pages never cross arms).
    Every key holds the catalog's version, which curators' changes (boosts,
    collections, availability) bump, and the serving defaults' stamp.
    """
    mood = mood or ""
    if profile is None:
        return PageKey(
            f"home:{PAGE_FORMAT}:{_served()}:shared:all::{mood}",
            shared=True,
            note="",
        )
    settings = settings_for(profile)
    if not settings.personalization:
        return PageKey(
            _shared_key(profile, settings, mood),
            shared=True,
            note=personalization_off_note(profile),
        )
    stored = (
        ProfileCandidates.objects.filter(profile=profile)
        .values_list("model_version_id", "updated_at")
        .first()
    )
    if stored is None or stored[0] is None:
        # Not scored (yet): the rows everyone of its audience gets.
        note = (
            new_profile_note(profile) if training.active_version() else no_model_note()
        )
        return PageKey(_shared_key(profile, settings, mood), shared=True, note=note)
    version, updated = stored
    privacy_stamp = settings.updated_at.timestamp() if settings.updated_at else 0
    ctx = context_bucket(context_for(profile, now=now, device=device, hour=tuning.hour))
    tuned = ""
    if tuning.exploration is not None or tuning.calibration is not None:
        tuned = f":x{tuning.exploration}:c{tuning.calibration}"
    choice = experiments.arm_for(profile)
    arm = f":e{choice.experiment.id}:{choice.page_arm}" if choice else ""
    return PageKey(
        f"home:{PAGE_FORMAT}:{_served()}:p:{profile.pk}:{version}:"
        f"{updated.timestamp()}:"
        f"{profile.activity_changed_at.timestamp()}:{privacy_stamp}:{mood}:{ctx}"
        f"{tuned}{arm}",
        shared=False,
    )


def _served() -> str:
    """The catalog's version and the serving defaults' stamp."""
    return f"{catalog_version()}:{experiments.serving_defaults().stamp}"


#: How many of a profile's cached page keys are remembered, so that an erasure
#: can delete them (older ones have expired by the time this many are made).
REMEMBERED_PAGES = 50


def _pages_key(profile_id: int) -> str:
    return f"home:pages:{profile_id}"


def page_remember(*, profile_id: int, key: str) -> None:
    """Notes a cached personal page's key, for :func:`pages_forget`."""
    keys = [k for k in cache.get(_pages_key(profile_id)) or [] if k != key]
    keys = [*keys[-(REMEMBERED_PAGES - 1) :], key]
    cache.set(_pages_key(profile_id), keys, None)


def pages_forget(*, profile_ids: Iterable[int]) -> None:
    """Deletes the profiles' cached home pages (an erasure: rows built from
    erased data must not linger in the cache until they expire)."""
    for profile_id in profile_ids:
        keys = cache.get(_pages_key(profile_id)) or []
        cache.delete_many(
            [*keys, *(f"{key}:page" for key in keys), _pages_key(profile_id)]
        )


def _shared_key(profile: Profile, settings: PrivacySettings, mood: str) -> str:
    # The hard filters (hidden genres, "not interested") and "show fewer"
    # hold on shared rows too: profiles with none share one page.
    controls = row_controls(profile)
    hidden = controls.filters.key
    fewer = sorted(controls.show_fewer)
    if fewer:
        hidden += ":f" + hashlib.sha256(repr(fewer).encode()).hexdigest()[:16]
    audience = "kids" if profile.is_kids else "all"
    # A profile sharing its region gets its region's row: a key per region.
    region = f":{settings.region}" if settings.location and settings.region else ""
    return f"home:{PAGE_FORMAT}:{_served()}:shared:{audience}:{hidden}:{mood}{region}"


def withdrawn(title_ids: list[int]) -> bool:
    """Whether any of these titles was withdrawn since (one query)."""
    if not title_ids:
        return False
    return Title.objects.filter(pk__in=title_ids, is_available=False).exists()
