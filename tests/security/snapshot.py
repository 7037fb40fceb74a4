"""What a refused request must leave as it was: every personal table (as the
privacy registry lists them), erasure receipts and the outbox of queued work."""

from django.db import models

from outbox.models import OutboxMessage
from privacy import registry
from privacy.models import ErasureReceipt

Snapshot = dict[str, list[tuple]]


def _tables() -> list[type[models.Model]]:
    tables = [entry.model for entry in registry.ENTRIES]
    return list(dict.fromkeys([*tables, ErasureReceipt, OutboxMessage]))


def database_snapshot() -> Snapshot:
    """Every row of those tables, every column, by table."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in _tables()
    }
