"""factory_boy factories. Records get their search text as the services would give it."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from animals.models import Animal, Breed, Ownership, Species, Weight
from clients.models import Client
from vetpms.models import ApiToken, Role, User, Vet


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=str(extracted)))
            if extracted == Role.VET:
                Vet.objects.get_or_create(user=self, defaults={"display_name": f"{self.first_name} {self.last_name}"})


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    title = "Mrs"
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda c: f"{c.first_name}.{c.last_name}@example.com".lower().replace("'", ""))
    mobile_phone = factory.Sequence(lambda n: f"+441134960{n % 1000:03d}")  # Ofcom drama range
    address_line1 = factory.Faker("street_address")
    town = "Exampletown"
    postcode = "EX1 2AB"
    reminder_consent = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        client = model_class(*args, **kwargs)
        client.search_text = client.build_search_text()
        client.save()
        return client


def species(name: str = "Dog") -> Species:
    return Species.objects.get(name=name)


def breed(species_name: str = "Dog", name: str = "Labrador Retriever") -> Breed:
    return Breed.objects.get(species__name=species_name, name=name)


class AnimalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Animal

    name = factory.Faker("first_name")
    owner = factory.SubFactory(ClientFactory)
    species = factory.LazyFunction(lambda: species("Dog"))
    sex = Animal.Sex.FEMALE
    neuter_status = Animal.Neuter.NEUTERED
    date_of_birth = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=3 * 365))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        animal = model_class(*args, **kwargs)
        animal.search_text = animal.build_search_text()
        animal.save()
        Ownership.objects.create(animal=animal, client=animal.owner)
        return animal


class WeightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Weight

    animal = factory.SubFactory(AnimalFactory)
    kg = "12.500"
    measured_on = factory.LazyFunction(timezone.localdate)


def make_token(user: User, name: str = "test") -> tuple[ApiToken, str]:
    from vetpms.services import api_token_create

    return api_token_create(user=user, name=name, by=user)
