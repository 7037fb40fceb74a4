"""``manage.py evaluate`` at MovieLens 1M scale: validation, fit and test.

On synthetic ratings shaped like ml-1m (``bench/scale.py``'s generator; 6,040
profiles, 3,706 titles, 1,000,209 ratings, with times), runs what
``manage.py evaluate`` runs on the time split: the settings chosen on a
validation split inside the training part (``engine.validation``), the fit
on the training part, the test metrics, the popularity baseline and the
cold-start viewers. Prints one JSON line with the seconds of each part, the
chosen settings and the figures. Target: under 60 s in all.
"""

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

if __name__ == "__main__":
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.pop(_var, None)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, log
from scale import POPULARITY, SIZES, peak_rss_mb, site_settings, synthetic
from scale import training_config as site_training_config

sys.path.insert(0, str(ROOT))
from recommendations.engine.experiment import evaluate
from recommendations.engine.splits import split_by_time

TARGET_S = 60


def main() -> None:
    n_users, n_items, n_ratings, _ = SIZES["1m"]
    config = replace(site_training_config(site_settings().RECOMMENDER), validate=True)
    inter = synthetic(n_users, n_items, n_ratings, popularity_shape=POPULARITY["1m"])
    log(f"evaluate: {len(inter):,} ratings, time split, validation on")
    began = time.perf_counter()
    train, test = split_by_time(inter)
    result = evaluate(train, test, config)
    total_s = time.perf_counter() - began
    ranking, popularity = result["ranking"], result["popularity"]
    print(
        json.dumps(
            {
                "bench": "evaluate",
                "size": "1m",
                "ratings": len(inter),
                "total_s": round(total_s, 2),
                "target_s": TARGET_S,
                "within_target": total_s <= TARGET_S,
                "timings": result["timings"],
                "chosen": result["validation"].get("chosen"),
                "ndcg@10": round(ranking["ndcg@10"], 4),
                "popularity_ndcg@10": round(popularity["ndcg@10"], 4),
                "popularity_percentile@10": round(
                    ranking["popularity_percentile@10"], 2
                ),
                "peak_rss_mb": peak_rss_mb(),
                "cpus": os.cpu_count(),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
