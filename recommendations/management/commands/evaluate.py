import json
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.importers.movielens import MovieLensFormatError
from recommendations.engine.cold_titles import evaluate_cold_titles
from recommendations.engine.experiment import evaluate
from recommendations.engine.rating import ALGORITHMS
from recommendations.engine.splits import split_by_time, split_random
from recommendations.services import dataset, training

ROWS = [
    ("rating", "rmse"),
    ("rating", "mae"),
    ("ranking", "precision@10"),
    ("ranking", "recall@10"),
    ("ranking", "ndcg@10"),
    ("ranking", "map@10"),
    ("ranking", "coverage"),
    ("ranking", "novelty"),
    ("ranking", "diversity"),
]


class Command(BaseCommand):
    help = (
        "Evaluate the recommender on held-out data beside a popularity baseline: "
        "RMSE/MAE of the rating model, and precision, recall, NDCG, MAP at 10, "
        "coverage, novelty and diversity of the Top-picks ranking."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data", type=Path, help="Evaluate MovieLens files, not the database."
        )
        parser.add_argument("--split", choices=["time", "random"], default="time")
        parser.add_argument(
            "--test-size",
            type=float,
            default=None,
            help="Held-out fraction per profile (time: 0.2, random: 0.25).",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--algorithm", choices=sorted(ALGORITHMS))
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object."
        )
        parser.add_argument(
            "--cold-titles",
            type=float,
            metavar="FRACTION",
            help="Instead: hold out this fraction of titles entirely and rank "
            "them by the content model (NDCG@10 against random and popularity).",
        )

    def handle(
        self, *args, data, split, test_size, seed, algorithm, json: bool, **options
    ):
        if options.get("cold_titles") is not None:
            return self.cold_titles(data, options["cold_titles"], seed, json)
        try:
            if data:
                inter, features = dataset.movielens_interactions(data)
            else:
                inter, features = dataset.training_dataset(), dataset.genre_features()
        except (FileNotFoundError, MovieLensFormatError) as exc:
            raise CommandError(str(exc)) from None
        if len(inter) == 0:
            raise CommandError(
                "No ratings to evaluate: import or seed a catalog first."
            )
        if test_size is not None and not 0 < test_size < 1:
            raise CommandError("--test-size must be between 0 and 1.")
        if split == "random":
            train, test = split_random(inter, test_size=test_size or 0.25, seed=seed)
        else:
            train, test = split_by_time(inter, test_fraction=test_size or 0.2)
        result = evaluate(
            train,
            test,
            training.training_config(algorithm),
            item_features=features,
            split=split,
        )
        result["split"] = {
            "kind": split,
            "test_size": test_size or (0.25 if split == "random" else 0.2),
            "seed": seed,
        }
        result["ndcg_vs_popularity"] = round(
            result["ranking"]["ndcg@10"] / max(result["popularity"]["ndcg@10"], 1e-12),
            3,
        )
        if json:
            self.stdout.write(_dumps(result))
            return
        self.stdout.write(
            f"{result['data']['train_rows']} training rows, {result['data']['test_rows']} held out "
            f"({split} split); algorithm {result['config']['algorithm']}\n"
        )
        self.stdout.write(f"{'metric':<16}{'model':>10}{'popularity':>12}")
        for group, key in ROWS:
            model = result[group].get(key)
            baseline = result["popularity"].get(key) if group == "ranking" else None
            self.stdout.write(f"{key:<16}{_fmt(model):>10}{_fmt(baseline):>12}")
        self.stdout.write(
            f"NDCG@10 is {result['ndcg_vs_popularity']}× the popularity baseline's."
        )

    def cold_titles(self, data: Path | None, fraction: float, seed: int, json: bool):
        if not 0 < fraction < 1:
            raise CommandError("--cold-titles must be between 0 and 1.")
        try:
            if data:
                inter, _ = dataset.movielens_interactions(data)
                features = dataset.movielens_content_features(data)
            else:
                inter = dataset.training_dataset()
                features = dataset.title_content_features()
        except (FileNotFoundError, MovieLensFormatError) as exc:
            raise CommandError(str(exc)) from None
        if len(np.unique(inter.items)) < 10:
            raise CommandError("Too few titles to hold some out: import a catalog.")
        config = training.training_config(None)
        result = evaluate_cold_titles(
            inter,
            features,
            fraction=fraction,
            seed=seed,
            ease_lambda=config.ease_lambda,
            min_profiles=config.min_profiles,
            max_items=config.max_items,
        )
        if json:
            self.stdout.write(_dumps(result))
            return
        self.stdout.write(
            f"{result['held_out_titles']} titles held out ({fraction:.0%}, seed "
            f"{seed}), {result['profiles']} profiles; content model α = "
            f"{result['alpha']} (chosen on validation titles)"
        )
        for key in ("ndcg@10", "random", "popularity", "oracle_popularity"):
            label = {"ndcg@10": "content model"}.get(key, key.replace("_", " "))
            self.stdout.write(f"{label:<20}NDCG@10 {result[key]:.4f}")
        self.stdout.write(
            f"The content model is {result['vs_popularity']}× the popularity "
            "a new title's content predicts."
        )


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4f}"


def _dumps(result: dict) -> str:
    return json.dumps(
        result, default=lambda o: o.item() if hasattr(o, "item") else str(o)
    )
