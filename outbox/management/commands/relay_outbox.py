from django.core.management.base import BaseCommand, CommandParser

from outbox import services
from outbox.models import OutboxMessage


class Command(BaseCommand):
    help = (
        "Send the background work waiting in the outbox (beat does this every "
        "15 s); --all sends every row not started, due or not."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="Also rows not due yet or past the attempts limit "
            "(after restoring a broker that lost its messages).",
        )

    def handle(self, *args, **options) -> None:
        sent = services.outbox_relay(everything=options["all"])
        waiting = OutboxMessage.objects.filter(started_at=None).count()
        stuck = OutboxMessage.objects.filter(
            attempts__gte=services.MAX_ATTEMPTS
        ).count()
        self.stdout.write(
            f"Sent {sent}; {waiting} waiting to start; "
            f"{stuck} past {services.MAX_ATTEMPTS} attempts (see the admin)."
        )
