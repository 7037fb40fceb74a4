"""``manage.py health [--refresh]``: the latest recommendation health figures
as one JSON object, for monitoring."""

import json

from django.core.management.base import BaseCommand, CommandError

from recommendations.models import HealthSnapshot
from recommendations.services import health


class Command(BaseCommand):
    help = (
        "Print the latest recommendation health snapshot (figures, alerts, "
        "exposure tables) as one JSON object."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="Compute a fresh snapshot first (kept in the history, alerts "
            "raised as the hourly one would).",
        )

    def handle(self, *args, refresh: bool = False, **options) -> None:
        if refresh:
            snapshot = health.health_snapshot_take(
                trigger=HealthSnapshot.Trigger.MANUAL
            )
        else:
            snapshot = health.health_latest()
            if snapshot is None:
                raise CommandError(
                    "No health snapshot yet: run `manage.py health --refresh`."
                )
        self.stdout.write(json.dumps(health.health_as_json(snapshot), sort_keys=True))
