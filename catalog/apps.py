from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_functions(sender, connection, **kwargs) -> None:
    """SQLite has no unaccent(): the word search folds titles with ours."""
    if connection.vendor == "sqlite":
        from catalog.search_index import unaccent_lower

        connection.connection.create_function(
            "marquee_unaccent_lower", 1, unaccent_lower, deterministic=True
        )


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        connection_created.connect(_sqlite_functions, dispatch_uid="catalog-sqlite")
