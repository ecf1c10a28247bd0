from django.apps import AppConfig


class AnimalsConfig(AppConfig):
    name = "animals"

    def ready(self) -> None:
        from clients.signals import client_changed

        client_changed.connect(_refresh_animals_search_text, dispatch_uid="animals.search_text")


def _refresh_animals_search_text(sender, *, client, search_changed: bool = False, **kwargs) -> None:
    if search_changed:
        from animals.services import refresh_search_text_for_owner

        refresh_search_text_for_owner(client=client)
