"""What we hold about a person: one entry per personal model, read by everything
that answers "what do you keep about me?".

Each :class:`PersonalData` says, for one table, what the viewer calls it, the
profile or account it belongs through, the kind of data it is erased and
aged as (its category and the date retention compares), whether one row can
be erased on its own and under which kind name, how it shows in the ledger
and in the inventory, and how it is exported. The inventory and the ledger
(:mod:`privacy.selectors`), the export (:mod:`privacy.exports`), erasure
and retention (:mod:`privacy.services`) all read :data:`ENTRIES`, so a
personal model registered here once appears in each of them; a test fails
while a model pointing at a profile or an account is not registered.

One vocabulary names single items everywhere (the ledger's URLs, the erase
API, the consent log): ``rating``, ``play``, ``search``, ``thumbs_up``,
``thumbs_down``, ``not_interested``, ``show_fewer``, ``pick``, ``list`` and
``tag``.
"""

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import models

from accounts.models import AccessToken, AccountErasureInProgress, Profile, User
from activity.models import (
    Feedback,
    Impression,
    ListItem,
    Rating,
    SearchEvent,
    TagApplication,
    ViewingEvent,
)
from consent.models import PrivacySettings
from privacy import export_rows
from privacy.models import ConsentEvent, DataExport
from privacy.personal_data import (
    Apart,
    Counted,
    Export,
    Item,
    Ledger,
    Line,
    PersonalData,
    Unlisted,
    counted,
)
from recommendations.engine.dataset import IMPLICIT_VALUES
from recommendations.models import (
    ExperimentAssignment,
    ModelComparison,
    ProfileCandidates,
    RowEngagement,
    SeedExclusion,
)

Row = export_rows.Row


# --- the words shared by several entries ------------------------------------------


def _stars(signal: str) -> str:
    """The implicit-feedback value of a signal, as the engine's table has it."""
    return f"{IMPLICIT_VALUES[signal]:g}"


_PROFILE = {"profile_id": "The profile.", "profile": "The profile's name."}
_TITLE = {"title_id": "The title's number.", "title__title": "The title."}
_STAFF_ONLY = Unlisted(
    "Django's own record about an account that works in the admin site; "
    "exported and erased with the account."
)


# --- the registry ----------------------------------------------------------------

ENTRIES: tuple[PersonalData, ...] = (
    PersonalData(
        User,
        "account",
        "account",
        owner=None,
        inventory=Unlisted("The account itself: the privacy centre is its page."),
        export=Export(
            "account",
            "Your account.",
            {
                "id": "The account's number.",
                "email": "The e-mail address you log in with.",
                "date_joined": "When the account was made.",
                "last_login": "Your last log-in.",
                "source": "signup (you signed up), movielens (imported), "
                "demo (demo data).",
                "is_active": "Whether the account may log in.",
                "is_staff": "Whether the account may use the admin site.",
            },
        ),
    ),
    PersonalData(
        Profile,
        "profiles",
        "profiles",
        owner="user",
        inventory=counted(
            "profiles",
            "Profiles",
            "Names, avatar colours and whether each is a kids profile.",
            first="created_at",
            last="created_at",
        ),
        export=Export(
            "profiles",
            "Your profiles (who is watching).",
            {
                "id": "The profile's number; other files name it as profile_id.",
                "name": "The profile's name.",
                "is_kids": "A kids profile sees titles for children only.",
                "avatar_color": "The avatar's colour.",
                "allow_training": "Whether its activity may improve "
                "recommendations for others.",
                "created_at": "When the profile was made.",
                "activity_changed_at": "Last change to anything its rows are "
                "built from.",
            },
            order=("id",),
        ),
    ),
    PersonalData(
        PrivacySettings,
        "privacy_settings",
        "privacy settings",
        owner="profile",
        inventory=Apart("settings"),
        export=Export(
            "privacy_settings",
            "Each profile's privacy choices (a profile missing here has the "
            "defaults: personalization on, nothing paused, contextual signals off, "
            "keep activity, exploration 20, calibration on, no hidden genres, no "
            "region, no weather).",
            {
                **_PROFILE,
                "personalization": "Rows chosen from your activity (off: "
                "everyone's rows).",
                "pause_viewing_history": "While true, plays are not stored.",
                "pause_search_history": "While true, searches are not stored.",
                "contextual_signals": "Device and time of day are stored and used.",
                "retention_months": "Activity older than this many months is "
                "deleted (0: kept).",
                "exploration": "0 = familiar, 100 = adventurous.",
                "calibration": "The genre mix of Top picks follows your history's mix.",
                "location": 'Your declared region is used (a "Popular in" row).',
                "region": "The region you declared (a country or US area).",
                "weather": "Today's weather picks a mood for your rows.",
                "weather_today": "The weather you declared, and the day "
                "(weather_declared_on) it was for.",
                "weather_declared_on": "The day weather_today was declared for.",
                "weather_provider": "The region's weather is looked up (nothing "
                "stored).",
                "updated_at": "Last change.",
                "hidden_genres": "Genres never recommended (CSV: separated by ';').",
                "taste_adjustments": "Your taste sliders: genre → percent of "
                "what your history says (0 off, 50 less, 150 more, 200 much "
                "more; a genre missing is as you watch).",
            },
            rows=export_rows.privacy_settings,
        ),
    ),
    PersonalData(
        Rating,
        "ratings",
        "ratings",
        owner="profile",
        category=True,
        time_field="updated_at",
        retained=True,
        signal=True,
        items=(
            Item(
                "rating",
                "Rating",
                "Ratings",
                "Top picks will no longer use this rating.",
            ),
        ),
        ledger=Ledger(at="updated_at", number="value"),
        inventory=counted(
            "ratings",
            "Ratings",
            "Your stars: the strongest signal for Top picks.",
            first="created_at",
            last="updated_at",
        ),
        export=Export(
            "ratings",
            "Stars you gave, 0.5 to 5.",
            {
                "id": "The rating's number.",
                **_PROFILE,
                **_TITLE,
                "value": "Stars, 0.5 to 5 in halves.",
                "created_at": "When you first rated it.",
                "updated_at": "When you last changed it.",
            },
            order=("updated_at",),
        ),
    ),
    PersonalData(
        ViewingEvent,
        "viewings",
        "viewing history",
        owner="profile",
        category=True,
        time_field="updated_at",
        retained=True,
        signal=True,
        items=(
            Item(
                "play",
                "Play",
                "Plays",
                "it is gone from your history and Continue watching, and Top "
                "picks stop counting it.",
            ),
        ),
        ledger=Ledger(at="started_at", number="progress", done="completed"),
        inventory=counted(
            "viewings",
            "Plays (viewing history)",
            "What you played (of a series, each episode) and how far: "
            "Continue watching, and for "
            "titles you did not rate, a finished play counts as "
            f"{_stars('completed')} stars, half way as "
            f"{_stars('watched_half')}, less as {_stars('abandoned')}.",
            first="started_at",
            last="updated_at",
        ),
        export=Export(
            "viewings",
            "Every play you started; of a series, the episode played.",
            {
                "id": "The viewing's number.",
                **_PROFILE,
                **_TITLE,
                "episode_id": "The episode's number, for a series; empty for a film.",
                "episode__season__number": "The episode's season.",
                "episode__number": "The episode's number in its season.",
                "episode__title": "The episode.",
                "started_at": "When the play started.",
                "updated_at": "The last moment it played.",
                "seconds_watched": "Seconds watched.",
                "progress": "How far in, 0 to 1.",
                "device_class": "tv, desktop, mobile or tablet; empty when "
                "contextual signals were off.",
                "completed": "Watched to the end.",
                "dismissed": "Removed from Continue Watching.",
            },
            order=("started_at",),
        ),
    ),
    PersonalData(
        SearchEvent,
        "searches",
        "search history",
        owner="profile",
        never_recommends=True,
        category=True,
        time_field="created_at",
        retained=True,
        items=(
            Item(
                "search",
                "Search",
                "Searches",
                "it is gone from your search history (searches are not used for "
                "recommendations).",
            ),
        ),
        ledger=Ledger(at="created_at", title=False, text="query"),
        inventory=counted(
            "searches",
            "Searches",
            "Your search history. Not used for recommendations.",
            first="created_at",
            last="created_at",
        ),
        export=Export(
            "searches",
            "What you searched for.",
            {
                "id": "The search's number.",
                **_PROFILE,
                "query": "The words searched.",
                "created_at": "When.",
            },
            order=("created_at",),
        ),
    ),
    PersonalData(
        Feedback,
        "feedback",
        "thumbs and not interested",
        owner="profile",
        category=True,
        time_field="created_at",
        retained=True,
        signal=True,
        split_by="kind",
        items=(
            Item(
                Feedback.Kind.THUMBS_UP.value,
                "Thumbs up",
                "Thumbs up",
                "Top picks will no longer count this as a title you like.",
            ),
            Item(
                Feedback.Kind.THUMBS_DOWN.value,
                "Thumbs down",
                "Thumbs down",
                "Top picks will no longer count this as a title you dislike.",
            ),
            Item(
                Feedback.Kind.NOT_INTERESTED.value,
                "Not interested",
                "Not interested (hidden titles)",
                "the title may show in your rows again.",
            ),
            Item(
                Feedback.Kind.PICK.value,
                "Onboarding pick",
                "Onboarding picks",
                "Top picks will no longer use this pick.",
            ),
            Item(
                Feedback.Kind.SHOW_FEWER.value,
                "Show fewer like this",
                "Show fewer like this",
                "titles like it are ranked as before.",
            ),
        ),
        ledger=Ledger(at="created_at"),
        inventory=Counted(
            (
                Line(
                    "feedback_thumbs_up",
                    "Thumbs up",
                    "A like: Top picks count it as a "
                    f"{_stars('thumbs_up')}-star rating.",
                    Feedback.Kind.THUMBS_UP.value,
                ),
                Line(
                    "feedback_thumbs_down",
                    "Thumbs down",
                    f"A dislike: Top picks count it as a {_stars('thumbs_down')}-star "
                    "rating and push similar titles down.",
                    Feedback.Kind.THUMBS_DOWN.value,
                ),
                Line(
                    "feedback_not_interested",
                    "Not interested (hidden titles)",
                    "Hidden titles: never shown in your rows; similar titles are "
                    "pushed down.",
                    Feedback.Kind.NOT_INTERESTED.value,
                ),
                Line(
                    "feedback_pick",
                    "Onboarding picks",
                    "Titles picked when the profile was new: counted as "
                    f"{_stars('pick')}-star ratings.",
                    Feedback.Kind.PICK.value,
                ),
                Line(
                    "feedback_show_fewer",
                    "Show fewer like this",
                    "Titles you asked to see fewer like: they and titles of "
                    "similar genres move down in your rows (never hidden, never "
                    "used for training).",
                    Feedback.Kind.SHOW_FEWER.value,
                ),
            ),
            first="created_at",
            last="created_at",
        ),
        export=Export(
            "feedback",
            "Thumbs, onboarding picks, “not interested” and “show fewer”.",
            {
                "id": "The feedback's number.",
                **_PROFILE,
                **_TITLE,
                "kind": "thumbs_up, thumbs_down, not_interested, show_fewer or "
                "pick (onboarding).",
                "created_at": "When.",
            },
            order=("created_at",),
        ),
    ),
    PersonalData(
        ListItem,
        "list",
        "My List",
        owner="profile",
        never_recommends=True,
        category=True,
        time_field="added_at",
        retained=True,
        items=(
            Item(
                "list",
                "My List entry",
                "My List",
                "the title is off My List.",
                in_ledger=False,
            ),
        ),
        inventory=counted(
            "list",
            "My List",
            "Titles you saved. Shown to you; not used to pick other titles.",
            first="added_at",
            last="added_at",
        ),
        export=Export(
            "my_list",
            "Titles on My List.",
            {
                "id": "The entry's number.",
                **_PROFILE,
                **_TITLE,
                "added_at": "When it was added.",
            },
            order=("added_at",),
        ),
    ),
    PersonalData(
        TagApplication,
        "tags",
        "tags",
        owner="profile",
        never_recommends=True,
        category=True,
        time_field="created_at",
        retained=True,
        items=(
            Item(
                "tag",
                "Tag",
                "Tags",
                "the tag is gone from the title (tags are not used for "
                "recommendations).",
                in_ledger=False,
            ),
        ),
        inventory=counted(
            "tags",
            "Tags you applied",
            "Words you put on titles (imported). Not used for recommendations.",
            first="created_at",
            last="created_at",
        ),
        export=Export(
            "tag_applications",
            "Tags you put on titles.",
            {
                "id": "The tag's use number.",
                **_PROFILE,
                **_TITLE,
                "tag__name": "The tag.",
                "created_at": "When.",
            },
            order=("created_at",),
        ),
    ),
    PersonalData(
        RowEngagement,
        "row_engagement",
        "row engagement",
        owner="profile",
        category=True,
        time_field="updated_at",
        retained=True,
        inventory=counted(
            "row_engagement",
            "Row engagement",
            "How often you act on each kind of row; busier rows rise on "
            "your home page.",
            last="updated_at",
        ),
        export=Export(
            "row_engagement",
            "How often you acted on a title reached from each kind of home row "
            "(rows you use more rise on your home page).",
            {
                "id": "The entry's number.",
                **_PROFILE,
                "row_kind": "The kind of row.",
                "count": "How many times.",
                "updated_at": "The last time.",
            },
            order=("updated_at",),
        ),
    ),
    # Rows turned down ("not because you watched X") are a choice, not
    # activity: retention keeps them.
    PersonalData(
        SeedExclusion,
        "seed_exclusions",
        "rows you turned down",
        owner="profile",
        category=True,
        time_field="created_at",
        inventory=counted(
            "seed_exclusions",
            "Rows you turned down",
            "Titles you asked us not to base “Because you watched” rows on.",
            first="created_at",
            last="created_at",
        ),
        export=Export(
            "seed_exclusions",
            "Titles you asked not to base “Because you watched” rows on.",
            {
                "id": "The entry's number.",
                **_PROFILE,
                **_TITLE,
                "created_at": "When.",
            },
            order=("created_at",),
        ),
    ),
    # What the home page showed, and whether a play or a rating followed:
    # the take rates and the tests read it; no row is chosen from it.
    PersonalData(
        Impression,
        "impressions",
        "rows you were shown",
        owner="profile",
        never_recommends=True,
        category=True,
        time_field="shown_at",
        retained=True,
        inventory=counted(
            "impressions",
            "Rows you were shown",
            "Each card your home page showed (on the site or through the API): "
            "the row, its place, the title, and whether you played or rated it "
            f"within {settings.IMPRESSION_ATTRIBUTION_HOURS} hours. Used only "
            "to measure how well the rows work (take rates, tests), never to "
            f"choose your titles; deleted after {settings.IMPRESSION_RETENTION_DAYS}"
            " days.",
            first="shown_at",
            last="shown_at",
        ),
        export=Export(
            "impressions",
            "Every card your home page showed you, and whether you played or "
            "rated its title soon after. Used only to measure the rows.",
            {
                "id": "The impression's number.",
                **_PROFILE,
                "page_view": "One page view: the cards shown together.",
                "shown_at": "When it was shown.",
                "surface": "home (the site) or api (an app).",
                "row_kind": "The kind of row (top-picks, because, trending…).",
                "row_position": "The row's place on the page, 0 first.",
                **_TITLE,
                "position": "The card's place in its row, 0 first.",
                "model_version_id": "The model version the row came from "
                "(empty: rows everyone gets).",
                "experiment_id": "The test the page was built for (empty: none).",
                "arm": "The test's variant you were shown (empty: none).",
                "ranker": "In an interleaved row, the variant that put the card there.",
                "device_class": "tv, desktop, mobile or tablet; empty when "
                "contextual signals were off.",
                "taken_at": "When you played or rated it after seeing it "
                "(empty: you did not).",
                "take": "play or rating (empty: not taken).",
            },
            order=("shown_at", "row_position", "position"),
        ),
    ),
    PersonalData(
        ExperimentAssignment,
        "experiment_assignments",
        "tests you took part in",
        owner="profile",
        time_field="assigned_at",
        inventory=counted(
            "experiment_assignments",
            "Tests you took part in",
            "Tests of the rows you were shown a variant of, and which variant "
            "(picked at random, the same on every page while the test runs).",
            first="assigned_at",
            last="assigned_at",
        ),
        export=Export(
            "experiment_assignments",
            "The tests of the rows you took part in, and the variant you saw.",
            {
                "id": "The entry's number.",
                **_PROFILE,
                "experiment_id": "The test's number.",
                "experiment__name": "The test.",
                "experiment__hypothesis": "What the test is meant to show.",
                "arm": "The variant you were shown (A, B…).",
                "assigned_at": "When you first saw it.",
            },
            order=("assigned_at",),
        ),
    ),
    PersonalData(
        ConsentEvent,
        "consent_log",
        "consent log",
        owner="user",
        inventory=counted(
            "consent_log",
            "Consent log",
            "Every settings change, export and erasure: what, old → new, when.",
            first="created_at",
            last="created_at",
        ),
        export=Export(
            "consent_log",
            "Every privacy setting change, export and erasure on this account.",
            {
                "id": "The entry's number.",
                "created_at": "When.",
                "kind": "setting, export or erasure.",
                "what": "What changed or was erased.",
                "old_value": "Before.",
                "new_value": "After.",
                "profile_id_at_time": "The profile it concerned (empty: the account).",
                "profile_name": "That profile's name at the time.",
            },
            order=("created_at", "id"),
        ),
    ),
    PersonalData(
        DataExport,
        "exports",
        "data exports",
        owner="user",
        inventory=counted(
            "exports",
            "Data exports",
            "Your “Download my data” requests; each zip is deleted after 7 days.",
            first="created_at",
            last="created_at",
        ),
        export=Export(
            "exports",
            "Your data exports, this one included.",
            {
                "id": "The export's number.",
                "status": "pending, running, ready, failed or expired.",
                "created_at": "When you asked for it.",
                "finished_at": "When it was built.",
                "expires_at": "When its file is deleted.",
                "size": "The zip's size in bytes.",
                "row_counts": "Rows per table in it (JSON; empty while it is built).",
            },
            order=("created_at", "id"),
        ),
    ),
    PersonalData(
        AccessToken,
        "tokens",
        "access tokens",
        owner="user",
        inventory=counted(
            "tokens",
            "Access tokens",
            "Tokens that let your apps use the API; revoked ones stay listed. "
            "Only a fingerprint of each secret is kept, never the secret.",
            first="created_at",
            last="last_used_at",
        ),
        export=Export(
            "tokens",
            "Your API access tokens (never their secrets).",
            {
                "id": "The token's number.",
                "name": "The name you gave it.",
                "scope": "read, read-write or account.",
                "profile_id": "The profile it is tied to (empty: every profile).",
                "prefix": "The secret's first characters, to recognise it.",
                "created_at": "When it was made.",
                "expires_at": "When it stops working (empty: never).",
                "last_used_at": "When an app last used it.",
                "revoked_at": "When it was revoked.",
            },
            order=("created_at", "id"),
        ),
    ),
    PersonalData(
        ProfileCandidates,
        "candidates",
        "Top picks candidates",
        owner="profile",
        inventory=Apart("candidates"),
        export=Export(
            "candidates",
            "Derived: each profile's stored candidates, the titles its rows are "
            "picked from, best first (CSV: one line per title).",
            {
                **_PROFILE,
                "model_version": "The model version that scored them.",
                "updated_at": "When they were scored (JSON only).",
                "titles": "The candidates (JSON only): rank, title_id, title, "
                "score, predicted_rating.",
                "rank": "Position, 1 = best (CSV).",
                "title_id": "The title's number (CSV).",
                "title": "The title (CSV).",
                "score": "The ranking score, standardised per profile (CSV).",
                "predicted_rating": "The predicted stars, 0.5 to 5 (CSV).",
            },
            rows=export_rows.candidates,
            csv_rows=export_rows.candidates_flat,
        ),
    ),
    PersonalData(LogEntry, "admin_log", "admin log", "user", inventory=_STAFF_ONLY),
    PersonalData(
        ModelComparison,
        "model_comparisons",
        "model comparisons asked for",
        "created_by",
        inventory=Unlisted(
            "A comparison of two model configurations this account asked for "
            "in the admin; exported and erased with the account, like the "
            "admin log."
        ),
    ),
    PersonalData(
        User.groups.through, "groups", "staff groups", "user", inventory=_STAFF_ONLY
    ),
    PersonalData(
        User.user_permissions.through,
        "permissions",
        "staff permissions",
        "user",
        inventory=_STAFF_ONLY,
    ),
)

#: Tables that point at an account or a profile but hold nothing about the
#: person, and why (the registry's test allows exactly these).
NOT_PERSONAL: dict[type[models.Model], str] = {
    AccountErasureInProgress: "A marker that lives only inside an account "
    "erasure's transaction (it names the account by id).",
}


def entry_for(model: type[models.Model]) -> PersonalData:
    return next(entry for entry in ENTRIES if entry.model is model)


#: Every kind of data a profile can erase as a whole, by name.
CATEGORIES: dict[str, PersonalData] = {e.name: e for e in ENTRIES if e.category}
#: Every kind of single item, by name: the entry it is a row of, and the item.
ITEMS: dict[str, tuple[PersonalData, Item]] = {
    item.name: (entry, item) for entry in ENTRIES for item in entry.items
}
#: The ledger's kinds, in the order its filter lists them.
LEDGER_KINDS: dict[str, Item] = {
    name: item for name, (_, item) in ITEMS.items() if item.in_ledger
}
#: Names the erase service took before the ledger's were chosen, still
#: accepted there (tests erase by them): a viewing is a play; "feedback" is
#: any thumb, hidden title or pick (the consent log names the row's own kind).
LEGACY_ITEM_KINDS: dict[str, tuple[PersonalData, Item | None]] = {
    "viewing": ITEMS["play"],
    "feedback": (entry_for(Feedback), None),
}


def item_kind(name: str) -> tuple[PersonalData, Item | None]:
    """The entry and item of an item kind's name; ``ValueError`` if unknown."""
    found = ITEMS.get(name) or LEGACY_ITEM_KINDS.get(name)
    if found is None:
        raise ValueError(f"Unknown kind “{name}”; one of {', '.join(ITEMS)}.")
    return found
