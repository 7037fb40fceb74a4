from django.apps import AppConfig


class OutboxConfig(AppConfig):
    verbose_name = "Background work (outbox)"
    name = "outbox"
