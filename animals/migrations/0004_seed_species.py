"""Reference data: the species a small-animal and mixed practice sees, with their common breeds."""

from django.db import migrations

SPECIES = {
    "Dog": [
        "Mixed breed",
        "Labrador Retriever",
        "Golden Retriever",
        "German Shepherd",
        "Border Collie",
        "Cocker Spaniel",
        "English Springer Spaniel",
        "Staffordshire Bull Terrier",
        "Jack Russell Terrier",
        "French Bulldog",
        "Bulldog",
        "Dachshund",
        "Beagle",
        "Boxer",
        "Cavalier King Charles Spaniel",
        "Chihuahua",
        "Pug",
        "Shih Tzu",
        "West Highland White Terrier",
        "Yorkshire Terrier",
        "Miniature Schnauzer",
        "Poodle",
        "Cockapoo",
        "Labradoodle",
        "Whippet",
        "Greyhound",
        "Rottweiler",
        "Border Terrier",
        "Dobermann",
        "Siberian Husky",
    ],
    "Cat": [
        "Domestic Shorthair",
        "Domestic Longhair",
        "British Shorthair",
        "Siamese",
        "Persian",
        "Maine Coon",
        "Ragdoll",
        "Bengal",
        "Burmese",
        "Sphynx",
        "Norwegian Forest Cat",
        "Abyssinian",
        "Russian Blue",
    ],
    "Rabbit": [
        "Mixed breed",
        "Netherland Dwarf",
        "Mini Lop",
        "Holland Lop",
        "Lionhead",
        "Rex",
        "Dutch",
        "Flemish Giant",
        "English Lop",
    ],
    "Horse": [
        "Thoroughbred",
        "Arab",
        "Welsh Pony",
        "Shetland Pony",
        "Cob",
        "Irish Draught",
        "Warmblood",
        "Quarter Horse",
        "Shire",
        "Connemara",
        "Donkey",
    ],
    "Guinea pig": ["American", "Abyssinian", "Peruvian", "Teddy", "Texel", "Skinny"],
    "Ferret": ["Standard", "Albino", "Polecat"],
    "Bird": [
        "Budgerigar",
        "Cockatiel",
        "African Grey Parrot",
        "Canary",
        "Lovebird",
        "Cockatoo",
        "Macaw",
        "Chicken",
        "Pigeon",
    ],
    "Reptile": [
        "Bearded Dragon",
        "Leopard Gecko",
        "Corn Snake",
        "Royal Python",
        "Tortoise",
        "Crested Gecko",
        "Red-eared Slider",
    ],
}


def seed(apps, schema_editor):
    Species = apps.get_model("animals", "Species")
    Breed = apps.get_model("animals", "Breed")
    for species_name, breeds in SPECIES.items():
        species, _ = Species.objects.get_or_create(name=species_name)
        for breed_name in breeds:
            Breed.objects.get_or_create(species=species, name=breed_name)


class Migration(migrations.Migration):
    dependencies = [("animals", "0003_search_index")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
