from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommendations.engine.rating import ALGORITHMS
from recommendations.services import training


class Command(BaseCommand):
    help = (
        "Time-boxed random search of the rating model's parameters; records the winner."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--algorithm", choices=sorted(ALGORITHMS), default="svd")
        parser.add_argument("--seconds", type=float, default=120, help="Time budget.")

    def handle(self, *args, algorithm: str, seconds: float, **options) -> None:
        if seconds <= 0:
            raise CommandError("--seconds must be positive.")
        try:
            run = training.tuning_run(algorithm=algorithm, seconds=seconds)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Best {algorithm} of {run.details['tried']} tried: RMSE {run.best_rmse:.4f} "
                f"with {run.best_params} (recorded as tuning run #{run.pk}; "
                f"use it with `manage.py train --tuned`)."
            )
        )
