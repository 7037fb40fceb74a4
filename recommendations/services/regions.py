"""What viewers of one region like: the aggregate behind "Popular in <region>".

Who counts: profiles that turned "my region" on and declared this region,
and are not kids profiles (children's activity never shapes other people's
rows). What counts: a title a profile rated 4★ or more, or watched to the
end; each profile counts once per title, however often it watched.

k-anonymity: the row exists only when at least :data:`MIN_PROFILES`
distinct profiles of the region liked something, and a title is in it only
when at least :data:`MIN_PROFILES_PER_TITLE` of them liked it, so no title
in the row stands for one person's taste. Only counts leave this module,
never who.
"""

from dataclasses import dataclass

from django.db import connection

from activity.models import Rating, ViewingEvent
from consent.models import PrivacySettings

MIN_PROFILES = 20
MIN_PROFILES_PER_TITLE = 3
LIKED_RATING = 4.0


@dataclass(frozen=True)
class RegionChart:
    region: str
    #: Distinct profiles of the region that liked at least one title.
    profiles: int
    #: (title id, distinct profiles that liked it), most liked first; empty
    #: when fewer than MIN_PROFILES profiles took part.
    titles: list[tuple[int, int]]


def region_chart(*, region: str, limit: int = 60) -> RegionChart:
    """The region's most liked titles (at most ``limit``), or none below the
    k-anonymity floor. Counted in the database: two queries over the union
    of liked ratings and finished plays of the region's profiles."""
    liked_sql, params = _liked_pairs(region)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(DISTINCT profile_id) FROM ({liked_sql}) liked", params
        )
        profiles = int(cursor.fetchone()[0])
        if profiles < MIN_PROFILES:
            return RegionChart(region=region, profiles=profiles, titles=[])
        cursor.execute(
            f"SELECT title_id, COUNT(DISTINCT profile_id) AS n FROM ({liked_sql}) liked "
            "GROUP BY title_id HAVING COUNT(DISTINCT profile_id) >= %s "
            "ORDER BY n DESC, title_id LIMIT %s",
            [*params, MIN_PROFILES_PER_TITLE, limit],
        )
        titles = [(int(t), int(n)) for t, n in cursor.fetchall()]
    return RegionChart(region=region, profiles=profiles, titles=titles)


def _liked_pairs(region: str) -> tuple[str, list]:
    """SQL for the distinct (profile, title) pairs the region's counted
    profiles liked, and its parameters."""
    members = PrivacySettings.objects.filter(
        location=True, region=region, profile__is_kids=False
    ).values("profile_id")
    rated = Rating.objects.filter(
        profile_id__in=members, value__gte=LIKED_RATING
    ).values_list("profile_id", "title_id")
    finished = ViewingEvent.objects.filter(
        profile_id__in=members, completed=True
    ).values_list("profile_id", "title_id")
    sql, params = rated.union(finished).query.sql_with_params()
    return sql, list(params)
