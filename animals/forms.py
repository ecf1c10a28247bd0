"""Forms of the animal pages. Views pass cleaned data to animals.services, which own every rule."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.urls import reverse
from django.utils import timezone

from animals.models import Animal, Breed, Species, normalise_microchip
from animals.services import EDITABLE_FIELDS
from clients.models import Client
from vetpms.forms import BootstrapMixin, DateInput

ANIMAL_FIELDS = [
    "name",
    "species",
    "breed",
    "sex",
    "neuter_status",
    "date_of_birth",
    "date_of_birth_estimated",
    "colour",
    "microchip",
    "alerts",
    "notes",
]
assert set(ANIMAL_FIELDS) == EDITABLE_FIELDS  # the form edits exactly what the service accepts


class AnimalForm(BootstrapMixin, forms.ModelForm):
    # Chips are read out in groups ("985 141 000 123 456"): accept spaces and dashes, store the 15 digits.
    microchip = forms.CharField(
        max_length=30, required=False, help_text="15 digits (ISO 11784); spaces and dashes are fine."
    )

    class Meta:
        model = Animal
        fields = ANIMAL_FIELDS
        widgets = {
            "date_of_birth": DateInput(),
            "alerts": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current_species = self.instance.species_id if self.instance.pk else None
        species_qs = Species.objects.filter(is_active=True)
        if current_species:
            species_qs = Species.objects.filter(is_active=True) | Species.objects.filter(pk=current_species)
        self.fields["species"].queryset = species_qs.order_by("name")
        self.fields["species"].empty_label = "Choose a species"
        self.fields["species"].widget.attrs.update(
            {
                "hx-get": reverse("animals:breed_options"),
                "hx-target": "#id_breed",
                "hx-trigger": "change",
                "hx-swap": "innerHTML",
            }
        )
        self.fields["breed"].queryset = self._breeds()
        self.fields["breed"].empty_label = "Unknown / cross-breed"
        self.fields["date_of_birth"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["microchip"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def _breeds(self):
        """Breeds of the chosen species (what was posted, else the animal's), plus the current breed."""
        species_id = self.data.get(self.add_prefix("species")) if self.is_bound else self.instance.species_id
        if not species_id:
            species_id = self.initial.get("species")
        try:
            species_id = int(species_id) if species_id else None
        except (TypeError, ValueError):
            species_id = None
        qs = Breed.objects.filter(species_id=species_id, is_active=True)
        if self.instance.pk and self.instance.breed_id:
            qs = qs | Breed.objects.filter(pk=self.instance.breed_id, species_id=species_id)
        return qs.order_by("name")

    def clean_microchip(self) -> str:
        return normalise_microchip(self.cleaned_data.get("microchip", ""))

    def _post_clean(self):
        # As ModelForm's, without the database constraints: the one on this model (a chip is unique among living
        # animals) is the service's rule, whose DomainError names the animal that holds the chip.
        exclude = self._get_validation_exclusions()
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except ValidationError as exc:
            self._update_errors(exc)
        try:
            self.instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            self._update_errors(exc)

    def validate_unique(self):
        """Uniqueness is checked by the service (see _post_clean)."""

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ANIMAL_FIELDS}


class TransferForm(BootstrapMixin, forms.Form):
    # Never rendered through its widget (that would list every client): the template shows the search results
    # as radio buttons and the field only checks the chosen id.
    to_owner = forms.ModelChoiceField(
        queryset=Client.objects.all(),
        label="New owner",
        error_messages={
            "required": "Choose the new owner.",
            "invalid_choice": "That client does not exist any more; search again.",
        },
    )
    note = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="E.g. 'rehomed'."
    )


class DeceasedForm(BootstrapMixin, forms.Form):
    deceased_on = forms.DateField(label="Date of death", widget=DateInput())
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deceased_on"].initial = timezone.localdate()
        self.fields["deceased_on"].widget.attrs["max"] = timezone.localdate().isoformat()


class WeightForm(BootstrapMixin, forms.Form):
    kg = forms.DecimalField(
        label="Weight (kg)", max_digits=7, decimal_places=3, min_value=0.001, max_value=2000, localize=False
    )
    measured_on = forms.DateField(label="Measured on", widget=DateInput())
    confirm = forms.BooleanField(
        label="Yes, this unusual weight is right", required=False, help_text="Tick after checking an unusual weight."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measured_on"].initial = timezone.localdate()
        self.fields["measured_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["kg"].widget.attrs.update({"step": "0.001", "inputmode": "decimal"})


class SpeciesForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Species
        fields = ["name", "is_active"]
        labels = {"is_active": "In use (offered when adding an animal)"}


class BreedForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Breed
        fields = ["name", "is_active"]
        labels = {"is_active": "In use (offered when adding an animal)"}

    def __init__(self, *args, species: Species, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.species = species
