from django.apps import AppConfig


class AnimalsConfig(AppConfig):
    name = "animals"

    def ready(self) -> None:
        from clients.signals import client_changed

        client_changed.connect(_refresh_animals_search_text, dispatch_uid="animals.search_text")

        # The owners' and pets' search text gets a trigram index on SQLite too (vetpms.fts), made by every migrate.
        from django.db.models.signals import post_migrate

        from animals.models import Animal
        from clients.models import Client
        from vetpms import fts

        fts.register(Client)
        fts.register(Animal)
        post_migrate.connect(_ensure_search_indexes, sender=self, dispatch_uid="animals.search_indexes")


def _ensure_search_indexes(sender, *, using: str = "default", **kwargs) -> None:
    from django.db import connections

    from vetpms import fts

    fts.ensure_indexes(connections[using])


def _refresh_animals_search_text(sender, *, client, search_changed: bool = False, **kwargs) -> None:
    if search_changed:
        from animals.services import refresh_search_text_for_owner

        refresh_search_text_for_owner(client=client)
