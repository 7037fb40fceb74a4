from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.importers.movielens import MovieLensFormatError, count_lines, detect_layout
from catalog.services import movielens_import


class Command(BaseCommand):
    help = (
        "Import a MovieLens folder (ml-latest-small, ml-latest, ml-20m, ml-25m, "
        "ml-100k, ml-1m, ml-10m). Idempotent; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", type=Path, help="Folder holding the MovieLens files."
        )
        parser.add_argument(
            "--limit-users",
            type=int,
            metavar="N",
            help="Import only the first N viewers met in the ratings file.",
        )
        parser.add_argument(
            "--source",
            help="Name that keeps these viewers apart (default: folder name).",
        )

    def handle(
        self,
        *args,
        path: Path,
        limit_users: int | None,
        source: str | None,
        verbosity: int,
        **options,
    ) -> None:
        if limit_users is not None and limit_users < 1:
            raise CommandError("--limit-users must be at least 1.")
        try:
            layout = detect_layout(path)
            total = max(count_lines(layout.ratings) - (layout.kind == "csv"), 0)
            with tqdm(
                total=total,
                unit=" ratings",
                unit_scale=True,
                disable=True if verbosity < 1 else None,
                desc=f"Importing {path.name}",
                file=self.stderr,
            ) as bar:
                report = movielens_import(
                    folder=path,
                    source=source,
                    limit_users=limit_users,
                    progress=bar.update,
                )
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        except MovieLensFormatError as exc:
            raise CommandError(
                f"{exc.path}, line {exc.line}: {exc.message}. Nothing was imported."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {path} ({layout.kind} format): "
                f"{report.titles} titles ({report.titles_created} new), "
                f"{report.profiles} viewers ({report.profiles_created} new), "
                f"{report.ratings} ratings ({report.ratings_created} new), "
                f"{report.tag_applications} tag applications "
                f"({report.tag_applications_created} new)."
            )
        )
