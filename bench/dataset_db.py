"""Reading the training dataset from PostgreSQL: seconds and memory per million rows.

Loads ``BENCH_DATASET_ROWS`` (default 3,000,000) ML-10M-shaped synthetic
ratings (bench/scale.py's generator) into a fresh database with ``COPY``,
then times ``services.dataset.training_dataset()``, which streams them with a
server-side cursor into numpy arrays, in a fresh process of its own so that
its peak RSS is the read's alone (the process's RSS after Django's set-up is
reported beside it).

Prints one JSON line; the capacity plan in the README cites it.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, log

DATABASE = "marquee_bench_dataset"
#: ml-10m's proportions: about 143 ratings a profile, 10,677 titles.
RATINGS_PER_PROFILE = 143
TITLES = 10_677


def status_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process. Not ``ru_maxrss``:
    Linux carries that over ``execve`` from the parent that started us."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def measure() -> None:
    """In its own process: Django set up, then one read of the dataset."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from recommendations.services.dataset import training_dataset

    baseline = status_mb("VmRSS")
    start = time.perf_counter()
    inter = training_dataset()
    seconds = time.perf_counter() - start
    arrays = sum(
        a.nbytes
        for a in (inter.users, inter.items, inter.values, inter.times, inter.negative)
    )
    print(
        json.dumps(
            {
                "rows": len(inter),
                "seconds": seconds,
                "rss_before_mb": baseline,
                "peak_rss_mb": status_mb("VmHWM"),
                "arrays_mb": arrays / 2**20,
            }
        )
    )


def load(n_ratings: int) -> None:
    import numpy as np
    from django.db import connection
    from scale import synthetic

    from accounts.models import Profile, User
    from catalog.models import Title

    n_users = n_ratings // RATINGS_PER_PROFILE
    inter = synthetic(n_users, TITLES, n_ratings)
    log(f"generated {n_ratings:,} ratings; creating {n_users:,} profiles")
    users = User.objects.bulk_create(
        [User(email=f"viewer{n}@bench.example", password="!") for n in range(n_users)],
        batch_size=5_000,
    )
    profiles = Profile.objects.bulk_create(
        [Profile(user=u, name="Viewer") for u in users], batch_size=5_000
    )
    titles = Title.objects.bulk_create(
        [Title(title=f"Title {n}", sort_title=f"title {n}") for n in range(TITLES)],
        batch_size=5_000,
    )
    profile_pk = np.array([p.pk for p in profiles], dtype=np.int64)
    title_pk = np.array([t.pk for t in titles], dtype=np.int64)
    title_ids = np.sort(np.unique(inter.items))
    items = title_pk[np.searchsorted(title_ids, inter.items)]
    log("COPY ratings")
    start = time.perf_counter()
    with connection.cursor() as cursor:
        copy_sql = (
            "COPY activity_rating (profile_id, title_id, value, created_at, updated_at)"
            " FROM STDIN"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            for lo in range(0, n_ratings, 200_000):
                hi = lo + 200_000
                at = np.datetime_as_string(
                    inter.times[lo:hi].astype("datetime64[s]"), timezone="UTC"
                )
                copy.write(
                    "".join(
                        f"{p}\t{t}\t{v}\t{a}\t{a}\n"
                        for p, t, v, a in zip(
                            profile_pk[inter.users[lo:hi] - 1].tolist(),
                            items[lo:hi].tolist(),
                            inter.values[lo:hi].tolist(),
                            at.tolist(),
                            strict=True,
                        )
                    )
                )
        cursor.execute("ANALYZE activity_rating")
    log(f"copied in {time.perf_counter() - start:.1f} s")


def main() -> None:
    from _setup import fresh_django

    n_ratings = int(os.environ.get("BENCH_DATASET_ROWS", "3000000"))
    fresh_django(DATABASE)
    load(n_ratings)
    log("reading the dataset in a fresh process")
    out = subprocess.run(
        [sys.executable, __file__, "--measure"],
        env=os.environ,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout)
    millions = result["rows"] / 1e6
    print(
        json.dumps(
            {
                "bench": "dataset_db",
                "rows": result["rows"],
                "read_s": round(result["seconds"], 2),
                "s_per_million_rows": round(result["seconds"] / millions, 2),
                "rss_before_mb": round(result["rss_before_mb"], 1),
                "peak_rss_mb": round(result["peak_rss_mb"], 1),
                "peak_mb_per_million_rows": round(
                    (result["peak_rss_mb"] - result["rss_before_mb"]) / millions, 1
                ),
                "arrays_mb_per_million_rows": round(result["arrays_mb"] / millions, 1),
                "chunk_rows": 20_000,
                "cpus": os.cpu_count(),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    if "--measure" in sys.argv:
        measure()
    else:
        main()
