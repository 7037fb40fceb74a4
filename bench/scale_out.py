"""Candidate scoring with one and with two worker processes (ML-1M-shaped data).

What a ``training`` queue worker does after a promotion, without the broker
and the database: each worker is a separate OS process with one BLAS thread
(as ``Procfile.production`` starts them), loads the published model file once
(as a Celery worker caches it), then takes shards of the site's
``SHARD_SIZE`` profiles from a shared queue one at a time (prefetch 1) and
scores each profile's candidates. Every profile is scored ``ROUNDS`` times
(three refreshes of everyone), so that the last shard's straggler is a small
part of the time. The clock runs from the moment every worker is ready until
the last shard is scored; the workers' start-up (interpreter, imports,
loading the model) is reported on its own, as it is paid once per worker, not
per batch.

Both runs must store the same candidates: each shard's results are reduced to
a checksum, and the sums of the two runs are compared.

The machine is shared, so each count of workers runs ``REPEATS`` times,
alternating, and its fastest run counts; every run's seconds are printed too.

Prints one JSON line: both timings and the speed-up (target >= 1.7 on two
cores). ``BENCH_SCALE_OUT_SIZE`` picks another of ``bench/scale.py``'s sizes.
"""

import os

# One BLAS thread per process, as the Celery workers run (Procfile.production).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import hashlib  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, log  # noqa: E402
from scale import (  # noqa: E402
    CANDIDATES,
    POPULARITY,
    SIZES,
    site_settings,
    synthetic,
    training_config,
)

sys.path.insert(0, str(ROOT))
from recommendations.engine import artifact  # noqa: E402
from recommendations.engine.experiment import fit_recommender  # noqa: E402
from recommendations.engine.recommender import History, Recommender  # noqa: E402

TARGET_SPEED_UP = 1.7
ROUNDS = int(os.environ.get("BENCH_SCALE_OUT_ROUNDS", "3"))
REPEATS = int(os.environ.get("BENCH_SCALE_OUT_REPEATS", "3"))


class ShardSource:
    """Each profile's rows, sorted once, as the database's index on profile
    serves them to a shard's query."""

    def __init__(self, users, items, values, negative) -> None:
        order = np.argsort(users, kind="stable")
        self.users = users[order]
        self.items = items[order]
        self.values = values[order]
        self.negative = negative[order]

    def histories(self, profile_ids: np.ndarray) -> list[History]:
        starts = np.searchsorted(self.users, profile_ids, side="left")
        ends = np.searchsorted(self.users, profile_ids, side="right")
        empty = np.zeros(0, dtype=np.int64)
        return [
            History(
                profile_id=int(p),
                items=self.items[s:e],
                values=self.values[s:e],
                hidden=empty,
                negative=self.negative[s:e],
            )
            for p, s, e in zip(profile_ids, starts, ends, strict=True)
        ]


def checksum(results) -> int:
    """The stored candidates of a shard (ids, rounded scores and predictions as
    ``services.candidates`` stores them), as a number that adds up across shards."""
    digest = hashlib.sha256()
    for c in results:
        digest.update(np.int64(c.profile_id).tobytes())
        digest.update(c.title_ids.astype(np.int64).tobytes())
        digest.update(np.round(c.scores, 4).tobytes())
        digest.update(np.round(c.predicted, 3).tobytes())
    return int.from_bytes(digest.digest()[:7], "big")


def worker(model_path, sha256, data_path, shards, results, ready, go) -> None:
    began = time.perf_counter()
    model = Recommender.from_arrays(artifact.load(Path(model_path), sha256))
    with np.load(data_path) as data:
        source = ShardSource(
            data["users"], data["items"], data["values"], data["negative"]
        )
    ready.put(time.perf_counter() - began)
    go.wait()
    busy = cpu = 0.0
    while (shard := shards.get()) is not None:
        start, start_cpu = time.perf_counter(), time.process_time()
        found = model.candidates(source.histories(shard), count=CANDIDATES)
        busy += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        results.put(("shard", len(found), checksum(found)))
    results.put(("done", busy, cpu))


def run(workers: int, model_path, sha256, data_path, shards) -> dict:
    ctx = mp.get_context("spawn")
    shard_queue, results, ready = ctx.Queue(), ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    processes = [
        ctx.Process(
            target=worker,
            args=(model_path, sha256, data_path, shard_queue, results, ready, go),
        )
        for _ in range(workers)
    ]
    started = time.perf_counter()
    for p in processes:
        p.start()
    setup = [ready.get() for _ in processes]
    ready_s = time.perf_counter() - started
    for _ in range(ROUNDS):
        for shard in shards:
            shard_queue.put(shard)
    for _ in processes:
        shard_queue.put(None)
    start = time.perf_counter()
    go.set()
    scored, total, busy, cpu = 0, 0, [], []
    while len(busy) < workers:
        kind, a, b = results.get()
        if kind == "shard":
            scored, total = scored + a, total + b
        else:
            busy.append(round(a, 2))
            cpu.append(round(b, 2))
    seconds = time.perf_counter() - start
    for p in processes:
        p.join()
    log(f"{workers} worker(s): {seconds:.2f} s for {scored:,} profiles")
    return {
        "workers": workers,
        "seconds": round(seconds, 2),
        "profiles_per_s": round(scored / seconds, 1),
        "profiles": scored,
        "busy_s_per_worker": busy,
        "cpu_s_per_worker": cpu,
        "worker_setup_s": [round(s, 2) for s in setup],
        "start_up_s": round(ready_s, 2),
        "checksum": total % (1 << 62),
    }


def main() -> None:
    size = os.environ.get("BENCH_SCALE_OUT_SIZE", "1m").lower()
    n_users, n_items, n_ratings, _ = SIZES[size]
    recommender_settings = site_settings().RECOMMENDER
    config = training_config(recommender_settings)
    shard_size = recommender_settings["SHARD_SIZE"]
    inter = synthetic(n_users, n_items, n_ratings, popularity_shape=POPULARITY[size])
    log(f"{size}: fitting on {len(inter):,} ratings")
    model, _ = fit_recommender(inter, config)
    profile_ids = np.unique(inter.users)
    shards = [
        profile_ids[lo : lo + shard_size]
        for lo in range(0, len(profile_ids), shard_size)
    ]
    with tempfile.TemporaryDirectory(prefix="bench-scale-out-") as folder:
        model_path = Path(folder) / "model.npz"
        sha256 = artifact.save(model_path, model.to_arrays())
        data_path = Path(folder) / "signals.npz"
        np.savez(
            data_path,
            users=inter.users,
            items=inter.items,
            values=inter.values,
            negative=inter.negative,
        )
        load_at_start = os.getloadavg()
        runs: dict[int, list[dict]] = {1: [], 2: []}
        for _ in range(REPEATS):
            for workers in (1, 2):
                runs[workers].append(
                    run(workers, model_path, sha256, data_path, shards)
                )
    # The machine is shared: each count's fastest run is the one least slowed
    # by others' work; the CPU seconds show whether two workers did more work
    # for the same profiles (memory bandwidth, caches) or only waited.
    one, two = (min(runs[n], key=lambda r: r["seconds"]) for n in (1, 2))
    speed_up = one["seconds"] / two["seconds"]
    print(
        json.dumps(
            {
                "bench": "scale_out",
                "size": size,
                "profiles": len(profile_ids),
                "ratings": len(inter),
                "rankable_titles": len(model.ranking.item_ids),
                "shard_size": shard_size,
                "shards": len(shards),
                "rounds": ROUNDS,
                "one_worker": one,
                "two_workers": two,
                "speed_up": round(speed_up, 2),
                "seconds_of_every_run": {
                    str(n): [r["seconds"] for r in runs[n]] for n in (1, 2)
                },
                "cpu_s_ratio_two_to_one": round(
                    sum(two["cpu_s_per_worker"]) / sum(one["cpu_s_per_worker"]), 3
                ),
                "target_speed_up": TARGET_SPEED_UP,
                "same_candidates": len({r["checksum"] for n in (1, 2) for r in runs[n]})
                == 1,
                "cpus": os.cpu_count(),
                "loadavg_at_start": [round(x, 2) for x in load_at_start],
                "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
