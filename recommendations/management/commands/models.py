from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommendations.models import ModelVersion
from recommendations.services import training


class Command(BaseCommand):
    help = "List model versions, promote one, or roll back to an earlier one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action")
        sub.add_parser("list", help="List versions (the default).")
        promote = sub.add_parser("promote", help="Activate a ready or retired version.")
        promote.add_argument("version", type=int)
        promote.add_argument(
            "--force", action="store_true", help="Skip the metrics gate."
        )
        rollback = sub.add_parser("rollback", help="Re-activate an earlier version.")
        rollback.add_argument(
            "version", type=int, nargs="?", help="Default: the last retired."
        )

    def handle(self, *args, action=None, **options) -> None:
        if action in (None, "list"):
            self._list()
            return
        try:
            if action == "promote":
                version = training.model_promote(
                    version=self._get(options["version"]), force=options["force"]
                )
            else:
                target = (
                    self._get(options["version"]) if options.get("version") else None
                )
                version = training.model_rollback(to=target)
        except training.PromotionRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Version #{version.pk} is now active."))

    def _get(self, pk: int) -> ModelVersion:
        try:
            return ModelVersion.objects.get(pk=pk)
        except ModelVersion.DoesNotExist:
            raise CommandError(f"There is no model version #{pk}.") from None

    def _list(self) -> None:
        self.stdout.write(
            f"{'id':>4}  {'status':<9}{'algorithm':<10}{'NDCG@10':>9}{'RMSE':>8}  created"
        )
        for v in ModelVersion.objects.all():
            ndcg = f"{v.ndcg:.4f}" if v.ndcg is not None else "—"
            rmse = f"{v.rmse:.4f}" if v.rmse is not None else "—"
            self.stdout.write(
                f"{v.pk:>4}  {v.status:<9}{v.algorithm:<10}{ndcg:>9}{rmse:>8}  "
                f"{v.created_at:%Y-%m-%d %H:%M}"
            )
