"""Imports ml-latest-small into a fresh PostgreSQL database.

Prints one JSON line: seconds, rows per second, peak memory. Target: the whole
import in under 20 s on a 2-core machine.
"""

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import fresh_django

fresh_django("marquee_bench_import")

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from catalog.services import movielens_import  # noqa: E402

folder = Path(settings.MOVIELENS_DIR) / "ml-latest-small"
start = time.perf_counter()
report = movielens_import(folder=folder)
seconds = time.perf_counter() - start
rows = report.titles + report.profiles + report.ratings + report.tag_applications
print(
    json.dumps(
        {
            "bench": "import_movielens",
            "dataset": folder.name,
            "database": connection.vendor,
            "seconds": round(seconds, 2),
            "rows": rows,
            "rows_per_second": round(rows / seconds),
            "ratings": report.ratings,
            "peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            ),
            "target_seconds": 20,
        }
    )
)
