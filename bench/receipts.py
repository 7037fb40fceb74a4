"""How long an effect receipt takes: the profile's home rows built before and
after a control (``privacy.receipts``), previewed (rolled back).

Seeds a demo catalog into a fresh PostgreSQL database and trains once (Celery
eager), then over 20 profiles times the preview of hiding the genre most shown
in their Top picks, personalization off, "not interested" in their first Top
pick (a fold-in before and after) and erasing their ratings (fold-in too).

Prints one JSON line: milliseconds per receipt (p50, p95, max) per control.
"""

import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import fresh_django, log

os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
fresh_django("marquee_bench_receipts")

from config.celery import app  # noqa: E402

app.conf.task_always_eager = True

from accounts.models import Profile  # noqa: E402
from catalog.models import Genre, Title  # noqa: E402
from catalog.services import demo_catalog_seed  # noqa: E402
from privacy import receipts  # noqa: E402
from recommendations.home.page import home_page  # noqa: E402
from recommendations.services import candidates, training  # noqa: E402

TITLES, VIEWERS, PROFILES = 1500, 300, 20


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def summary(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {
        "p50": round(float(np.percentile(a, 50)), 1),
        "p95": round(float(np.percentile(a, 95)), 1),
        "max": round(float(a.max()), 1),
    }


def main() -> None:
    log("seeding the demo catalog")
    demo_catalog_seed(
        seed=7, titles=TITLES, viewers=VIEWERS, until=datetime(2026, 1, 1, tzinfo=UTC)
    )
    log("training")
    training.model_train(params={"n_factors": 20, "n_epochs": 10, "random_state": 0})
    times: dict[str, list[float]] = {}
    for profile in Profile.objects.filter(ratings__isnull=False).distinct()[:PROFILES]:
        candidates.profile_refresh(profile_id=profile.pk)
        page = home_page(profile=profile)
        picks = next((r for r in page.rows if r.kind == "top-picks"), None)
        if picks is None:
            continue
        ids = [t.pk for t in picks.titles]
        genre_id = Counter(
            Title.genres.through.objects.filter(title_id__in=ids).values_list(
                "genre_id", flat=True
            )
        ).most_common(1)[0][0]
        genre, title = Genre.objects.get(pk=genre_id), Title.objects.get(pk=ids[0])
        controls = {
            "hide_genre": lambda p=profile, g=genre: receipts.hidden_genres_receipt(
                profile=p, genres=[g], preview=True
            ),
            "personalization_off": lambda p=profile: receipts.setting_receipt(
                profile=p, name="personalization", value=False, preview=True
            ),
            "not_interested": lambda p=profile, t=title: (
                receipts.not_interested_receipt(
                    profile=p, title=t, add=True, preview=True
                )
            ),
            "erase_ratings": lambda p=profile: receipts.erase_category_receipt(
                profile=p, category="ratings", preview=True
            ),
        }
        for name, call in controls.items():
            times.setdefault(name, []).append(timed(call))
    print(
        json.dumps(
            {
                "bench": "receipts",
                "titles": TITLES,
                "viewers": VIEWERS,
                "profiles": len(times.get("hide_genre", [])),
                "preview_ms": {name: summary(v) for name, v in times.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
