from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from accounts.services import admin_create_if_missing
from catalog.models import Title
from recommendations.models import ModelVersion


class Command(BaseCommand):
    help = (
        "Make a fresh site usable: load a catalog (MovieLens from --data, else the demo "
        "catalog when the catalog is empty), train the first model and create the "
        "first admin login."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, help="A MovieLens folder to import.")
        parser.add_argument("--admin-email", default="admin@marquee.local")

    def handle(self, *args, data: Path | None, admin_email: str, **options) -> None:
        if data:
            call_command("import_movielens", data)
        elif not Title.objects.exists():
            self.stdout.write(
                "No catalog yet and no DATA given: seeding the demo catalog."
            )
            call_command("seed_demo")
        else:
            self.stdout.write("Catalog already loaded.")
        if not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists():
            self.stdout.write(
                "No active recommendation model yet: training the first one."
            )
            call_command("train")
        password = admin_create_if_missing(email=admin_email)
        if password:
            self.stdout.write(
                self.style.SUCCESS(
                    "\n  Admin login (shown once; change it with "
                    "`manage.py changepassword`):\n"
                    f"    e-mail:   {admin_email}\n    password: {password}\n"
                    "    at:       http://127.0.0.1:8000/admin/\n"
                )
            )
