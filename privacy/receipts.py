"""Effect receipts of the controls that change recommendations, in plain words.

Each function runs one control through its own service inside
:func:`recommendations.services.receipts.rows_effect` (the profile's real home
rows built before and after) and says what changed, with the numbers:
"Hiding Horror removed 14 titles from your rows (3 from Top picks)". With
``preview=True`` nothing is kept ("would remove"); otherwise the receipt is
written to the consent log, in the same transaction as the change, as a line
of its own (``what`` starts with :data:`RECEIPT_PREFIX`, the words are the
line's new value: the log has no field for details).

Where other controls meet this (a taste slider, say): call
:func:`receipt_of` with the change as a function of the profile.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accounts.models import Profile
from activity import services as activity_services
from activity.models import Feedback, Rating, ViewingEvent
from catalog.models import Genre, Title
from consent import policy
from privacy import services
from privacy.forms import ALL_TOGGLES
from privacy.models import ConsentEvent
from recommendations.services.receipts import RowsDiff, rows_effect

#: Consent-log lines that are receipts: ``what`` starts with this.
RECEIPT_PREFIX = "receipt: "


@dataclass(frozen=True)
class Receipt:
    """What a control did (or, previewed, would do) to the profile's rows."""

    control: str  # what was done, for the consent log: "hidden genre Horror"
    text: str  # the sentence shown and logged
    diff: RowsDiff
    preview: bool
    result: Any = None  # what the control's service returned


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _titles(n: int) -> str:
    return _count(n, "title")


def _top_picks(diff: RowsDiff, attribute: str = "left_page") -> str:
    row = diff.row_of_kind("top-picks")
    count = getattr(row, attribute) if row else 0
    return f" ({count} from {row.name})" if row and count else ""


def effect_words(diff: RowsDiff, *, preview: bool) -> str:
    """The titles that left and came onto the page: "removed 14 titles from
    your rows (3 from Top picks) and added 2"."""
    remove, add = ("would remove", "would add") if preview else ("removed", "added")
    parts = []
    if diff.removed:
        parts.append(
            f"{remove} {_titles(len(diff.removed))} from your rows{_top_picks(diff)}"
        )
    if diff.added:
        tail = "" if diff.removed else " to your rows"
        parts.append(
            f"{add} {len(diff.added) if diff.removed else _titles(len(diff.added))}{tail}"
        )
    if not parts:
        return (
            "would change no title in your rows"
            if preview
            else ("changed no title in your rows")
        )
    return " and ".join(parts)


def receipt_of(
    *,
    profile: Profile,
    control: str,
    change: Callable[[Profile], Any],
    words: Callable[[RowsDiff, Any], str],
    preview: bool,
    refold: bool = False,
    kind: str = ConsentEvent.Kind.SETTING,
    log: bool | Callable[[Any], bool] = True,
) -> Receipt:
    """Runs ``change`` between two builds of the profile's rows; ``words``
    turns the difference (and what ``change`` returned) into the sentence,
    written to the consent log unless previewed (or ``log`` is False, or a
    function of ``change``'s result that says False: the control changed no
    setting, so there is nothing to account for)."""
    with transaction.atomic():
        diff, result = rows_effect(
            profile_id=profile.pk, change=change, refold=refold, keep=not preview
        )
        text = words(diff, result)
        if callable(log):
            log = log(result)
        if log and not preview:
            services.consent_event_record(
                profile=profile,
                user_id=profile.user_id,
                kind=kind,
                what=(RECEIPT_PREFIX + control)[:80],
                new=text,
            )
    return Receipt(
        control=control, text=text, diff=diff, preview=preview, result=result
    )


# --- the controls --------------------------------------------------------------


def _names(genres: list[Genre]) -> str:
    names = [g.name for g in genres]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def hidden_genres_receipt(
    *, profile: Profile, genres: list[Genre], preview: bool = False
) -> Receipt:
    """Makes exactly ``genres`` the profile's hidden genres (the centre's boxes)."""
    current = policy.hidden_genre_ids(policy.settings_for(profile))
    wanted = {g.pk for g in genres}
    hiding = [g for g in genres if g.pk not in current]
    showing = list(Genre.objects.filter(pk__in=current - wanted).order_by("name"))
    doing = []
    if hiding:
        doing.append(f"hiding {_names(hiding)}")
    if showing:
        doing.append(f"showing {_names(showing)} again")
    action = " and ".join(doing) or "keeping the same hidden genres"
    control = "; ".join(
        [f"hidden genre {g.name}" for g in hiding]
        + [f"shown genre {g.name}" for g in showing]
    )

    def words(diff: RowsDiff, _: Any) -> str:
        return f"{action[0].upper()}{action[1:]} {effect_words(diff, preview=preview)}."

    return receipt_of(
        profile=profile,
        control=control or "hidden genres",
        change=lambda p: services.hidden_genres_replace(profile=p, genres=genres),
        words=words,
        preview=preview,
        log=bool(control),
    )


def _similar(title: Title) -> set[int]:
    """The titles a receipt calls "similar": those sharing a genre with it."""
    return set(
        Title.objects.filter(genres__in=title.genres.all())
        .exclude(pk=title.pk)
        .values_list("pk", flat=True)
    )


def _feedback_change(title: Title, kind: str, add: bool) -> Callable[[Profile], Any]:
    """The control that adds (or removes) a feedback of ``kind`` on ``title``."""

    def change(p: Profile) -> Any:
        if add:
            return activity_services.feedback_add(profile=p, title=title, kind=kind)
        return activity_services.feedback_remove(profile=p, title=title, kind=kind)

    return change


def not_interested_receipt(
    *, profile: Profile, title: Title, add: bool, preview: bool = False
) -> Receipt:
    """ "Not interested" in a title, or its undo; "similar" titles share a genre
    with it."""
    similar = _similar(title)
    change = _feedback_change(title, Feedback.Kind.NOT_INTERESTED, add)

    def words(diff: RowsDiff, _: Any) -> str:
        if add:
            on_page = title.pk in diff.removed
            lowered = len((diff.moved_down | diff.removed) & similar)
            left = len(diff.removed & similar)
            head = f"Not interested in {title.title}: "
            head += (
                f"it {'would leave' if preview else 'left'} your rows; "
                if on_page
                else "it was not in your rows; "
            )
            moved = "would move" if preview else "moved"
            return (
                f"{head}{lowered} similar title{'' if lowered == 1 else 's'} "
                f"{moved} down ({left} of them out of your rows)."
            )
        came = "would come" if preview else "came"
        return (
            f"{title.title} may show again: {_titles(len(diff.added))} "
            f"{came} back into your rows."
        )

    return receipt_of(
        profile=profile,
        control=f"{'not interested' if add else 'interested again'}: {title.title}",
        change=change,
        words=words,
        preview=preview,
        refold=True,
    )


def _held(profile: Profile) -> tuple[int, int]:
    return (
        Rating.objects.filter(profile=profile).count(),
        ViewingEvent.objects.filter(profile=profile).count(),
    )


def setting_receipt(
    *, profile: Profile, name: str, value: Any, preview: bool = False
) -> Receipt:
    """A privacy setting (a toggle or exploration) changed through
    :func:`privacy.services.privacy_settings_update`."""
    settings = policy.settings_for(profile)
    old = getattr(profile if name == "allow_training" else settings, name)
    label = ALL_TOGGLES[name][0] if name in ALL_TOGGLES else name.capitalize()

    def words(diff: RowsDiff, _: Any) -> str:
        effect = effect_words(diff, preview=preview)
        if name == "personalization" and not value:
            return (
                f"Turning personalized rows off {effect}: your rows "
                f"{'would be' if preview else 'are now'} everyone’s, and nothing "
                "you watch or rate is used to choose them."
            )
        if name == "personalization":
            return f"Turning personalized rows on {effect}."
        if name == "pause_viewing_history":
            ratings, plays = _held(profile)
            if value:
                return (
                    "Pausing viewing history: no new play is kept from now on; "
                    f"your rows still use the {_count(ratings, 'rating')} and "
                    f"{_count(plays, 'play')} already kept, so it {effect}."
                )
            return (
                "Resuming viewing history: new plays are kept again and shape "
                f"your rows; for now it {effect}."
            )
        if name == "exploration":
            row = diff.row_of_kind("top-picks")
            picks = (
                f"{row.left_row} of the {row.titles} {row.name} changed; "
                if row
                else ""
            )
            return f"Exploration {old} → {value}: {picks}it {effect}."
        state = "on" if value else "off"
        return f"Turning “{label}” {state} {effect}."

    return receipt_of(
        profile=profile,
        control=f"{name} {'on' if value is True else 'off' if value is False else value}",
        change=lambda p: services.privacy_settings_update(profile=p, **{name: value}),
        words=words,
        preview=preview,
        log=old != value,
    )


def erase_category_receipt(
    *, profile: Profile, category: str, preview: bool = False
) -> Receipt:
    """Erases a category of the profile's activity; ``result`` is how many rows."""
    label = services.CATEGORIES[category].label

    def words(diff: RowsDiff, count: int) -> str:
        effect = effect_words(diff, preview=preview)
        if preview:
            return f"Erasing {count} {label} {effect}."
        return f"Erased {count} {label}: it {effect}."

    return receipt_of(
        profile=profile,
        control=f"all {label} erased",
        change=lambda p: services.erase_category(profile=p, category=category),
        words=words,
        preview=preview,
        refold=True,
        kind=ConsentEvent.Kind.ERASURE,
    )


def show_fewer_receipt(
    *, profile: Profile, title: Title, add: bool, preview: bool = False
) -> Receipt:
    """ "Show fewer like this" on a title, or its undo: soft, so it moves
    titles down (or back up) without hiding any; "similar" as for
    :func:`not_interested_receipt`."""
    similar = _similar(title)
    change = _feedback_change(title, Feedback.Kind.SHOW_FEWER, add)

    def words(diff: RowsDiff, _: Any) -> str:
        moved = "would move" if preview else "moved"
        if add:
            down = len((diff.moved_down | diff.removed) & similar)
            left = len(diff.removed & similar)
            return (
                f"Fewer like {title.title}: {down} similar "
                f"title{'' if down == 1 else 's'} {moved} down ({left} of them "
                "out of your rows); none is hidden."
            )
        up = len((diff.moved_up | diff.added) & similar)
        return (
            f"Titles like {title.title} are ranked as before: {up} similar "
            f"title{'' if up == 1 else 's'} {moved} back up."
        )

    return receipt_of(
        profile=profile,
        control=f"{'show fewer' if add else 'show as before'}: {title.title}",
        change=change,
        words=words,
        preview=preview,
    )


def taste_receipt(
    *,
    profile: Profile,
    levels: dict[int, int] | None = None,
    preview: bool = False,
) -> Receipt:
    """The taste sliders: ``levels`` (genre id → percent) set, or every
    genre reset to what the profile does when None. ``result`` is what the
    service returned (the changes; or whether anything was reset)."""

    def change(p: Profile) -> Any:
        if levels is None:
            return services.taste_levels_reset(profile=p)
        return services.taste_levels_set(profile=p, levels=levels)

    def words(diff: RowsDiff, result: Any) -> str:
        what = (
            "Resetting your taste to what you do"
            if levels is None
            else "Your taste sliders"
        )
        moved = "would move" if preview else "moved"
        return (
            f"{what} {effect_words(diff, preview=preview)}; "
            f"{_titles(len(diff.moved_up))} {moved} up and "
            f"{len(diff.moved_down)} down."
        )

    return receipt_of(
        profile=profile,
        control="taste reset" if levels is None else "taste sliders",
        change=change,
        words=words,
        preview=preview,
        log=bool,  # only when a slider moved (or a reset reset something)
    )


def non_profiling_receipt(
    *, profile: Profile, on: bool, keep_plays: bool = False, preview: bool = False
) -> Receipt:
    """The home page's switch: rows not based on the profile's activity (on),
    or based on it again (off)."""

    def words(diff: RowsDiff, _: Any) -> str:
        effect = effect_words(diff, preview=preview)
        if on:
            plays = (
                "plays are kept only so Continue watching can resume them"
                if keep_plays
                else "no play is kept"
            )
            return (
                f"Rows not based on your activity {effect}: they are everyone’s, "
                f"nothing you do is recorded to choose them, and {plays}."
            )
        return f"Rows based on your activity again {effect}."

    return receipt_of(
        profile=profile,
        control=f"rows {'not ' if on else ''}based on activity",
        change=lambda p: services.non_profiling_set(
            profile=p, on=on, keep_plays=keep_plays
        ),
        words=words,
        preview=preview,
        refold=not on,
    )
