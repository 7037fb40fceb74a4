"""How the export reads the tables whose files are not just their columns
(privacy settings with their hidden genres, stored candidates with their
titles), and the names those files show beside ids. The registry
(:mod:`privacy.registry`) points each such table's export at its builder here.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from accounts.models import Profile, User
from catalog.models import Genre, Title
from consent.models import PrivacySettings
from recommendations.models import ProfileCandidates

Row = dict[str, Any]


def profile_names(user: User) -> dict[int, str]:
    return dict(Profile.objects.filter(user=user).values_list("id", "name"))


def title_names(ids: set[int]) -> dict[int, str]:
    return dict(Title.objects.filter(pk__in=ids).values_list("id", "title"))


def with_profile(rows: Iterable[Row], names: dict[int, str]) -> list[Row]:
    out = []
    for row in rows:
        row = dict(row)
        row["profile"] = names.get(row["profile_id"], "")
        out.append(row)
    return out


def privacy_settings(user: User) -> list[Row]:
    hidden: dict[int, list[str]] = defaultdict(list)
    through = PrivacySettings.hidden_genres.through
    for profile_id, genre in (
        through.objects.filter(privacysettings__profile__user=user)
        .order_by("genre__name")
        .values_list("privacysettings_id", "genre__name")
    ):
        hidden[profile_id].append(genre)
    fields = [*PrivacySettings.CHOICE_FIELDS, "weather_declared_on", "updated_at"]
    rows = PrivacySettings.objects.filter(profile__user=user).order_by("profile_id")
    out = []
    rows = rows.values("profile_id", "taste_adjustments", *fields)
    adjusted = {
        int(g) for row in rows for g in row["taste_adjustments"] if str(g).isdigit()
    }
    genre_names = dict(Genre.objects.filter(pk__in=adjusted).values_list("id", "name"))
    for row in with_profile(rows, profile_names(user)):
        row["hidden_genres"] = hidden.get(row["profile_id"], [])
        row["taste_adjustments"] = {
            genre_names[int(g)]: level
            for g, level in sorted(row["taste_adjustments"].items())
            if str(g).isdigit() and int(g) in genre_names
        }
        out.append(row)
    return out


def candidates(user: User) -> list[Row]:
    stored = list(
        ProfileCandidates.objects.filter(profile__user=user).order_by("profile_id")
    )
    names = title_names({t for c in stored for t in c.title_ids})
    profiles = profile_names(user)
    return [
        {
            "profile_id": c.profile_id,
            "profile": profiles.get(c.profile_id, ""),
            "model_version": c.model_version_id,
            "updated_at": c.updated_at,
            "titles": [
                {
                    "rank": rank,
                    "title_id": title_id,
                    "title": names.get(title_id, ""),
                    "score": score,
                    "predicted_rating": predicted,
                }
                for rank, (title_id, score, predicted) in enumerate(
                    zip(c.title_ids, c.scores, c.predicted, strict=False), start=1
                )
            ],
        }
        for c in stored
    ]


def candidates_flat(rows: list[Row]) -> list[Row]:
    return [
        {
            "profile_id": row["profile_id"],
            "profile": row["profile"],
            "model_version": row["model_version"],
            **title,
        }
        for row in rows
        for title in row["titles"]
    ]
