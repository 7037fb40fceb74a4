"""What impressions cost: recording one home page view's cards, and marking
one take, on PostgreSQL.

In a fresh database: 2,000 profiles, 2,000 titles, and 1,000,000 impressions
spread over the last 30 days (one INSERT … SELECT). Then times
``activity.services.impressions_record`` for a 200-card page (20 rows of 10,
one INSERT) for 200 page views, and ``impression_take`` (one UPDATE with a
subquery, preferring the row the title was opened from) 500 times, half of
them for a title the profile was shown in the last day.

Prints one JSON line: milliseconds per page view and per take (p50, p95, max).
"""

import json
import random
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import fresh_django, log

fresh_django("marquee_bench_impressions")

from django.db import connection  # noqa: E402

from accounts.models import Profile, User  # noqa: E402
from activity.models import Impression  # noqa: E402
from activity.services import impression_take, impressions_record  # noqa: E402
from catalog.models import Title  # noqa: E402

PROFILES, TITLES, IMPRESSIONS = 2000, 2000, 1_000_000
ROWS, CARDS = 20, 10
PAGE_VIEWS, TAKES = 200, 500
KINDS = ("top-picks", "because", "trending", "new", "top10", "genre", "gems")


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def summary(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "max": round(float(a.max()), 2),
    }


def seed() -> tuple[list[int], list[int]]:
    users = User.objects.bulk_create(
        [User(email=f"bench{i}@example.com") for i in range(PROFILES)]
    )
    profiles = Profile.objects.bulk_create(
        [Profile(user=u, name="Bench") for u in users]
    )
    titles = Title.objects.bulk_create(
        [Title(title=f"Title {i}", sort_title=f"title {i}") for i in range(TITLES)]
    )
    profile_ids, title_ids = [p.pk for p in profiles], [t.pk for t in titles]
    log(f"inserting {IMPRESSIONS:,} impressions")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO activity_impression (profile_id, page_view, shown_at,
                surface, row_kind, row_position, title_id, position, arm, ranker,
                device_class, take, model_version_id)
            SELECT %(p0)s + (n %% %(profiles)s), md5((n / 200)::text)::uuid,
                now() - (random() * interval '30 days'), 'home',
                (ARRAY['top-picks','because','trending','new','top10'])[1 + n %% 5],
                (n / 10) %% 20, %(t0)s + floor(random() * %(titles)s)::int,
                n %% 10, '', '', '', '', 1
            FROM generate_series(0, %(n)s - 1) AS n
            """,
            {
                "p0": profile_ids[0],
                "profiles": PROFILES,
                "t0": title_ids[0],
                "titles": TITLES,
                "n": IMPRESSIONS,
            },
        )
        cursor.execute("ANALYZE activity_impression")
    return profile_ids, title_ids


def main() -> None:
    rng = random.Random(7)
    profile_ids, title_ids = seed()
    profiles = {p.pk: p for p in Profile.objects.select_related("privacy")}

    log("recording page views")
    record = []
    for _ in range(PAGE_VIEWS):
        profile = profiles[rng.choice(profile_ids)]
        cards = [
            (KINDS[r % len(KINDS)], r, rng.choice(title_ids), p, "")
            for r in range(ROWS)
            for p in range(CARDS)
        ]
        record.append(
            timed(
                lambda profile=profile, cards=cards: impressions_record(
                    profile=profile,
                    cards=cards,
                    page_view=uuid.uuid4(),
                    surface="home",
                    model_version_id=1,
                    experiment_id=None,
                    arm="",
                    device_class="",
                    private_session=False,
                )
            )
        )

    log("attributing takes")
    recent = list(
        Impression.objects.order_by("-shown_at").values_list(
            "profile_id", "title_id", "row_kind"
        )[:TAKES]
    )
    take, marked = [], 0
    for i in range(TAKES):
        if i % 2:
            profile_id, title_id, kind = recent[i]
        else:
            profile_id, title_id, kind = (
                rng.choice(profile_ids),
                rng.choice(title_ids),
                "",
            )
        started = time.perf_counter()
        marked += impression_take(
            profile=profiles[profile_id], title_id=title_id, take="play", row_kind=kind
        )
        take.append((time.perf_counter() - started) * 1000)

    print(
        json.dumps(
            {
                "bench": "impressions",
                "impressions_in_table": Impression.objects.count(),
                "page_view_cards": ROWS * CARDS,
                "record_page_view_ms": summary(record),
                "take_ms": summary(take),
                "takes_marked": marked,
                "takes_tried": TAKES,
            }
        )
    )


if __name__ == "__main__":
    main()
