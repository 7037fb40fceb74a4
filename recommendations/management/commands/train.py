import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recommendations.engine.rating import ALGORITHMS
from recommendations.services import training


class Command(BaseCommand):
    help = "Train, evaluate and publish a new model version; activate it if it passes the gate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--algorithm", choices=sorted(ALGORITHMS))
        parser.add_argument(
            "--params",
            type=json.loads,
            help="Surprise parameters as JSON, e.g. '{\"n_factors\": 50}'.",
        )
        parser.add_argument(
            "--tuned", action="store_true", help="Use the last `manage.py tune` winner."
        )
        parser.add_argument(
            "--force", action="store_true", help="Activate even if metrics regress."
        )
        parser.add_argument(
            "--json", action="store_true", help="Print the version as one JSON object."
        )

    def handle(
        self, *args, algorithm, params, tuned, force, json: bool, **options
    ) -> None:
        if tuned:
            algorithm = algorithm or training.training_config().algorithm
            params = training.tuned_params(algorithm)
            if params is None:
                raise CommandError(
                    f"No tuning run for {algorithm} yet: run `manage.py tune`."
                )
        stages = training.TRAINING_STAGES
        bar = tqdm(
            total=len(stages),
            desc="Training",
            file=self.stderr,
            disable=True if options["verbosity"] < 1 else None,
        )

        def progress(stage: str) -> None:
            bar.n = stages.index(stage)
            bar.set_description(f"Training: {stage}")

        try:
            with bar:
                version = training.model_train(
                    algorithm=algorithm, params=params, force=force, progress=progress
                )
                bar.n = len(stages)
                bar.set_description("Training: done")
        except training.TrainingInProgress as exc:
            raise CommandError(str(exc)) from None
        except (TypeError, ValueError) as exc:
            raise CommandError(f"Training failed: {exc}") from None
        if version.status == version.Status.FAILED:  # cancelled from the admin
            raise CommandError(f"Training stopped: {version.error}")
        summary = {
            "id": version.pk,
            "status": version.status,
            "algorithm": version.algorithm,
            "data": version.data_counts,
            "metrics": version.metrics,
            "timings": version.timings,
            "note": version.error,
        }
        if json:
            self.stdout.write(_json(summary))
            return
        rating, ranking, popularity = (
            version.metrics[k] for k in ("rating", "ranking", "popularity")
        )
        self.stdout.write(
            f"Version #{version.pk} ({version.algorithm}): {version.get_status_display()}"
        )
        self.stdout.write(f"  data      {version.data_counts}")
        self.stdout.write(f"  RMSE {rating['rmse']:.4f}  MAE {rating['mae']:.4f}")
        self.stdout.write(
            f"  NDCG@10 {ranking['ndcg@10']:.4f} (popularity {popularity['ndcg@10']:.4f})  "
            f"precision@10 {ranking['precision@10']:.4f}  coverage {ranking['coverage']:.4f}"
        )
        self.stdout.write(
            f"  seconds   {', '.join(f'{k} {v:.2f}' for k, v in version.timings.items())}"
        )
        if version.error:
            self.stdout.write(self.style.WARNING(f"  not activated: {version.error}"))


def _json(value) -> str:
    return json.dumps(value, default=str)
