"""The namespace cluster of ``tests/cluster/``, timed.

``tools/cluster.py`` starts PostgreSQL and Redis on one address, a web
process and beat in a second network namespace and one Celery worker in each
of two more (queues training,default, one process each, its own artifact
cache), with ml-latest-small imported. Then:

1. "Train now": one worker trains and publishes to the database artifact
   store, the promotion fans every profile out in shards, both workers score
   them. Reported: ``train_s`` (the version's creation to its activation, on
   the worker), ``fan_out_s`` (activation to the last profile's candidates),
   ``ask_to_all_profiles_s`` (wall clock, from the ask, including the shell
   that asks and the coalescing countdown), and the shards each worker scored.
2. Every profile again, with w1 cut off (link down) while it holds a shard
   mid-task (held at its first read of the registry by a table lock, as in
   the test). Reported: ``redelivered_after_cut_s`` (cut to the shard's
   success on w2: Redis's visibility timeout plus its sweep interval) and
   ``all_profiles_after_cut_s``.

Needs root and ``ip netns`` (else its line says why).
``BENCH_CLUSTER_VISIBILITY_TIMEOUT`` (default 45 s) and
``BENCH_CLUSTER_SHARD_SIZE`` (default 50) change the set-up. Prints one JSON
line.
"""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _setup import log  # noqa: E402

from tools.cluster import WORKERS, Cluster, available, task_ids, wait_for  # noqa: E402

SCORE = "recommendations.tasks.score_candidates"
TRAIN = "recommendations.tasks.train_model"
PATIENCE = 600
DATA = Path(
    os.environ.get("MOVIELENS_DIR", ROOT.parent / "shared" / "data" / "movielens")
) / "ml-latest-small"  # fmt: skip


def main() -> None:
    reason = available()
    if reason:  # `make bench` goes on with the others
        print(json.dumps({"bench": "cluster", "skipped": reason}), flush=True)
        return
    visibility = int(os.environ.get("BENCH_CLUSTER_VISIBILITY_TIMEOUT", "45"))
    shard_size = int(os.environ.get("BENCH_CLUSTER_SHARD_SIZE", "50"))
    started = time.perf_counter()
    with Cluster(
        data=DATA, shard_size=shard_size, visibility_timeout=visibility, log=log
    ) as cluster:
        setup_s = time.perf_counter() - started
        profiles = int(cluster.value("select count(*) from accounts_profile"))

        # 1. Retrain, publish, fan out.
        offsets = {name: cluster.log_size(name) for name in WORKERS}
        before = cluster.newest_version_id()
        asked = time.perf_counter()
        cluster.ask_training()

        def promoted():
            active = cluster.active_version()
            return active if active and active[0] > before else None

        version, _ = wait_for(promoted, PATIENCE, "the new version")
        wait_for(
            lambda: cluster.profiles_without_candidates(version) == 0,
            PATIENCE,
            "every profile's candidates",
        )
        ask_to_all = time.perf_counter() - asked
        train_s, fan_out_s = (
            float(x)
            for x in cluster.sql(
                "select extract(epoch from v.activated_at - v.created_at),"
                " extract(epoch from max(c.updated_at) - v.activated_at)"
                " from recommendations_modelversion v"
                " join recommendations_profilecandidates c on c.model_version_id = v.id"
                f" where v.id = {version} group by v.id"
            )[0]
        )
        logs = {name: cluster.log(name, offsets[name]) for name in WORKERS}
        shards = {
            name: len(task_ids(logs[name], SCORE, "succeeded")) for name in WORKERS
        }
        trained_on = [
            name for name in WORKERS if task_ids(logs[name], TRAIN, "succeeded")
        ]
        log(f"version {version}: trained on {trained_on}, shards {shards}")

        # 2. Every profile again; w1 cut off mid-task.
        since = cluster.value("select now()")
        offsets = {name: cluster.log_size(name) for name in WORKERS}
        lock = cluster.lock_table("recommendations_modelversion")
        try:
            cluster.refresh_all(version)
            (held,) = wait_for(
                lambda: task_ids(cluster.log("w1", offsets["w1"]), SCORE, "received"),
                PATIENCE,
                "w1 to take a shard",
            )
            wait_for(lambda: cluster.waiting_on_a_lock("w1"), PATIENCE, "w1 mid-task")
            cluster.link_down("w1")
            cut = time.perf_counter()
        finally:
            cluster.unlock(lock)
        log(f"w1 cut off holding {held}")
        wait_for(
            lambda: (
                held in task_ids(cluster.log("w2", offsets["w2"]), SCORE, "succeeded")
            ),
            PATIENCE,
            "w2 to score w1's shard",
        )
        redelivered = time.perf_counter() - cut
        wait_for(
            lambda: cluster.profiles_without_candidates(version, since=since) == 0,
            PATIENCE,
            "every profile after the cut",
        )
        all_after_cut = time.perf_counter() - cut

    print(
        json.dumps(
            {
                "bench": "cluster",
                "profiles": profiles,
                "shard_size": shard_size,
                "visibility_timeout_s": visibility,
                "setup_s": round(setup_s, 1),
                "train_s": round(train_s, 1),
                "fan_out_s": round(fan_out_s, 2),
                "ask_to_all_profiles_s": round(ask_to_all, 1),
                "trained_on": trained_on,
                "shards_per_worker": shards,
                "redelivered_after_cut_s": round(redelivered, 1),
                "all_profiles_after_cut_s": round(all_after_cut, 1),
                "total_s": round(time.perf_counter() - started, 1),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
