"""Is a measured weight, temperature, heart or breathing rate believable for this animal? One place for both the
weight form (animals) and the consultation's vitals (clinical).

Two kinds of limit:

* **Impossible** values (a heart rate of 0, a temperature of 60 degrees, a weight of nothing) are refused whatever
  the user says: they are typing errors or wrong units. ``check_vital`` raises a ValidationError naming the field
  (a form error, a 422 from the API).
* **Implausible** values are outside what the species shows even when ill (a 32 kg Chihuahua, a 45 kg cat, a dog's
  heart at 20 beats a minute). They are refused with a DomainError coded ``confirm_required`` (a 409) unless the
  caller passes ``confirm=True``: pages ask "are you sure?" and send the value again with the box ticked, so an
  unusual but real reading is kept and a slip of the keyboard is caught.

The ranges are deliberately wide (plausible, not normal: a fever of 41 degrees is a finding, not a typo). They are
keyed by species name as seeded by ``animals/migrations/0004_seed_species.py``; a species a practice adds itself
gets only the impossible-value limits. Breeds with a known adult size add an upper weight bound (young animals are
lighter, so breeds give no lower bound). Reptiles are ectotherms: their body temperature follows the vivarium's,
hence their low range.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from vetpms.errors import DomainError

D = Decimal


@dataclass(frozen=True)
class Span:
    low: Decimal
    high: Decimal

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | Decimal) and self.low <= value <= self.high


@dataclass(frozen=True)
class SpeciesRanges:
    weight_kg: Span
    temperature_c: Span
    heart_rate: Span  # beats per minute
    respiratory_rate: Span  # breaths per minute


# What no living patient can show: refused always.
IMPOSSIBLE = {
    "weight_kg": Span(D("0.001"), D("2000")),
    "temperature_c": Span(D("5"), D("46")),
    "heart_rate": Span(D("1"), D("1000")),
    "respiratory_rate": Span(D("1"), D("300")),
}


def _ranges(weight: str, temperature: str, heart: str, breathing: str) -> SpeciesRanges:
    """Each argument is "low-high"."""

    def span(text: str) -> Span:
        low, high = text.split("-")
        return Span(D(low), D(high))

    return SpeciesRanges(span(weight), span(temperature), span(heart), span(breathing))


# Plausible spans per species: weight kg, temperature °C, heart rate /min, respiratory rate /min.
SPECIES_RANGES: dict[str, SpeciesRanges] = {
    "Dog": _ranges("0.08-110", "35-42.5", "30-260", "6-200"),
    "Cat": _ranges("0.05-15", "35-42.5", "80-300", "8-100"),
    "Rabbit": _ranges("0.03-12", "35.5-42", "100-350", "20-150"),
    "Horse": _ranges("15-1300", "35-42", "20-140", "4-80"),
    "Guinea pig": _ranges("0.04-2", "36-41.5", "150-400", "30-150"),
    "Ferret": _ranges("0.005-3", "36-41.5", "150-350", "15-80"),
    "Bird": _ranges("0.005-12", "37-44.5", "80-1000", "6-150"),
    "Reptile": _ranges("0.001-300", "10-40", "2-120", "1-60"),
}

# The heaviest a healthy adult of the breed plausibly is (kg), with room for an obese one.
BREED_MAX_KG: dict[tuple[str, str], Decimal] = {
    ("Dog", "Chihuahua"): D("6"),
    ("Dog", "Yorkshire Terrier"): D("7"),
    ("Dog", "Pug"): D("14"),
    ("Dog", "Shih Tzu"): D("12"),
    ("Dog", "West Highland White Terrier"): D("14"),
    ("Dog", "Jack Russell Terrier"): D("12"),
    ("Dog", "Border Terrier"): D("12"),
    ("Dog", "Miniature Schnauzer"): D("14"),
    ("Dog", "Cavalier King Charles Spaniel"): D("14"),
    ("Dog", "Dachshund"): D("18"),
    ("Dog", "French Bulldog"): D("20"),
    ("Dog", "Beagle"): D("24"),
    ("Dog", "Whippet"): D("22"),
    ("Dog", "Cocker Spaniel"): D("22"),
    ("Dog", "Cockapoo"): D("20"),
    ("Dog", "Staffordshire Bull Terrier"): D("28"),
    ("Dog", "Bulldog"): D("35"),
    ("Dog", "Border Collie"): D("30"),
    ("Dog", "English Springer Spaniel"): D("30"),
    ("Cat", "Siamese"): D("8"),
    ("Cat", "Sphynx"): D("8"),
    ("Cat", "Abyssinian"): D("7"),
    ("Cat", "Maine Coon"): D("15"),
    ("Rabbit", "Netherland Dwarf"): D("2"),
    ("Rabbit", "Lionhead"): D("2.5"),
    ("Rabbit", "Holland Lop"): D("2.5"),
    ("Rabbit", "Mini Lop"): D("3.5"),
    ("Horse", "Shetland Pony"): D("300"),
    ("Horse", "Welsh Pony"): D("450"),
    ("Horse", "Donkey"): D("480"),
    ("Bird", "Budgerigar"): D("0.1"),
    ("Bird", "Canary"): D("0.05"),
    ("Bird", "Lovebird"): D("0.1"),
    ("Bird", "Cockatiel"): D("0.2"),
    ("Bird", "African Grey Parrot"): D("0.8"),
}

LABELS = {
    "weight_kg": ("weight", "kg"),
    "temperature_c": ("temperature", "°C"),
    "heart_rate": ("heart rate", "/min"),
    "respiratory_rate": ("respiratory rate", "/min"),
}


def expected_range(*, quantity: str, species: str, breed: str = "") -> Span | None:
    """The plausible span of ``quantity`` for the species (and breed, for weights), or None when unknown."""
    ranges = SPECIES_RANGES.get(species)
    if ranges is None:
        return None
    span: Span = getattr(ranges, quantity)
    if quantity == "weight_kg" and breed:
        ceiling = BREED_MAX_KG.get((species, breed))
        if ceiling is not None and ceiling < span.high:
            span = Span(span.low, ceiling)
    return span


def check_vital(
    *, quantity: str, value: Decimal | int | None, species: str, breed: str = "", confirm: bool = False, field: str = ""
) -> None:
    """Refuse an impossible ``value`` (ValidationError) and, unless ``confirm``, an implausible one (DomainError
    with code ``confirm_required``). ``quantity`` is one of ``weight_kg``, ``temperature_c``, ``heart_rate``,
    ``respiratory_rate``; ``field`` names the input in errors (defaults to ``quantity``)."""
    if value is None:
        return
    field = field or quantity
    name, unit = LABELS[quantity]
    value = Decimal(value)
    hard = IMPOSSIBLE[quantity]
    if value not in hard:
        raise ValidationError(
            {field: f"A {name} of {value} {unit} is not possible (allowed {hard.low} to {hard.high} {unit})."}
        )
    if confirm:
        return
    span = expected_range(quantity=quantity, species=species, breed=breed)
    if span is not None and value not in span:
        who = f"a {breed} ({species.lower()})" if breed and quantity == "weight_kg" else f"a {species.lower()}"
        raise DomainError(
            f"A {name} of {value} {unit} is unusual for {who} (expected {span.low} to {span.high} {unit}). "
            "Check it, and confirm if it is right.",
            field=field,
            code="confirm_required",
        )
