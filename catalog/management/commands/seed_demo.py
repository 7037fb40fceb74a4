from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.demo import DEFAULT_TITLES, DEFAULT_VIEWERS
from catalog.services import demo_catalog_seed


class Command(BaseCommand):
    help = (
        "Replace the demo catalog (invented titles, and viewers whose ratings "
        "follow planted tastes) with the one a seed generates. The same seed "
        "gives the same catalog; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="Default: 42.")
        parser.add_argument(
            "--titles",
            type=int,
            default=DEFAULT_TITLES,
            metavar="N",
            help=f"How many titles (default: {DEFAULT_TITLES}).",
        )
        parser.add_argument(
            "--viewers",
            type=int,
            default=DEFAULT_VIEWERS,
            metavar="N",
            help=f"How many viewers (default: {DEFAULT_VIEWERS}).",
        )

    def handle(self, *args, seed: int, titles: int, viewers: int, **options) -> None:
        if titles < 1 or viewers < 1:
            raise CommandError("--titles and --viewers must be at least 1.")
        report = demo_catalog_seed(seed=seed, titles=titles, viewers=viewers)
        replaced = (
            f" (replaced {report.titles_replaced} titles and "
            f"{report.profiles_replaced} viewers)"
            if report.titles_replaced or report.profiles_replaced
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded the demo catalog with seed {report.seed}: "
                f"{report.titles} titles, {report.profiles} viewers, "
                f"{report.ratings} ratings{replaced}."
            )
        )
