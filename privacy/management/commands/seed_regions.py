"""``manage.py seed_regions PATH``: the demo's regions from MovieLens zip codes."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.importers.movielens import MovieLensFormatError
from privacy.services import demo_regions_seed


class Command(BaseCommand):
    help = (
        "Gives viewers imported from a MovieLens folder with demographics "
        "(ml-100k u.user, ml-1m users.dat) the region of their zip code, with "
        "“My region” on, for the demo's “Popular in …” rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--source", default=None, help="As given to import_movielens, if any."
        )

    def handle(self, *args, path: Path, source: str | None, **options) -> None:
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder.")
        try:
            report = demo_regions_seed(folder=path, source=source)
        except MovieLensFormatError as exc:
            raise CommandError(str(exc)) from exc
        if not report.users:
            self.stdout.write(f"No zip codes in {path}: no regions seeded.")
            return
        self.stdout.write(
            f"{report.profiles} of {report.users} users share a region now: "
            + ", ".join(f"{code} {n}" for code, n in sorted(report.regions.items()))
        )
