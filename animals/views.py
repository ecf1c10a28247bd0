"""Animal pages (detail, create, edit, transfer, deceased, (de)activate, weights), the species and breed lists
for managers, and the global search (pets and owners; it lives here because the search selector does)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from animals import selectors, services
from animals.charts import weight_chart
from animals.forms import AnimalForm, BreedForm, DeceasedForm, SpeciesForm, TransferForm, WeightForm
from animals.models import Animal, Breed, Species
from clients.models import Client
from vetpms.errors import DomainError
from vetpms.forms import apply_service_error
from vetpms.params import parse_id
from vetpms.permissions import permission_required

SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 100
DROPDOWN_SIZE = 8


# --- Global search -------------------------------------------------------------------------------------------


@require_GET
@permission_required("clients.view_client", "animals.view_animal")
def search(request):
    """The full results page; for htmx requests (typing in the header box) only the top results, as a dropdown."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    too_short = len(query) < SEARCH_MIN_LENGTH
    hits = [] if too_short else selectors.search(query=query, limit=DROPDOWN_SIZE if request.htmx else 50)
    context = {
        "query": query,
        "search_query": query,
        "too_short": too_short,
        "min_length": SEARCH_MIN_LENGTH,
        "animal_hits": [h for h in hits if h.kind == "animal"],
        "client_hits": [h for h in hits if h.kind == "client"],
        "hits": hits,
    }
    if request.htmx:
        return render(request, "search/_dropdown.html", context)
    return render(request, "search/results.html", context)


# --- Animals -------------------------------------------------------------------------------------------------


# The animal page lists the latest weights (all of them are on the history page, filtered to weights) and charts
# at most about CHART_POINTS of them, so a 15-year-old cat weighed every month opens as fast as a puppy.
WEIGHTS_LISTED = 10
CHART_POINTS = 60


@permission_required("animals.view_animal")
def animal_detail(request, pk: int):
    try:
        animal = selectors.animal_page(pk=pk)
    except Animal.DoesNotExist:
        raise Http404("No such animal.") from None
    weights = selectors.weight_overview(animal_id=animal.pk, latest=WEIGHTS_LISTED, points=CHART_POINTS)
    chart = weight_chart(weights.series, count=weights.count, lightest=weights.lightest, heaviest=weights.heaviest)
    return render(
        request,
        "animals/detail.html",
        {
            "animal": animal,
            "weights": weights.latest,
            "weight_count": weights.count,
            "chart": chart,
            "ownerships": list(animal.ownerships.all()),
            "weight_form": WeightForm(),
            "nav": "clients",
        },
    )


@permission_required("animals.add_animal")
def animal_create(request, client_pk: int):
    owner = get_object_or_404(Client, pk=client_pk)
    form = AnimalForm(request.POST or None, initial={"species": request.GET.get("species")})
    if not owner.is_active:
        messages.warning(request, f"{owner} is inactive; reactivate the client before adding an animal.")
    if request.method == "POST" and form.is_valid():
        try:
            animal = services.animal_create(by=request.user, owner=owner, **form.service_data())
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{animal.name} added to {owner}.")
            return redirect("animals:detail", pk=animal.pk)
    return render(request, "animals/form.html", {"form": form, "owner": owner, "nav": "clients"})


@permission_required("animals.change_animal")
def animal_update(request, pk: int):
    animal = get_object_or_404(Animal.objects.select_related("owner", "species"), pk=pk)
    heading = animal.name
    form = AnimalForm(request.POST or None, instance=animal)
    if request.method == "POST" and form.is_valid():
        try:
            animal = services.animal_update(animal=animal, by=request.user, data=form.service_data())
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"Changes to {animal.name} saved.")
            return redirect("animals:detail", pk=animal.pk)
    return render(
        request,
        "animals/form.html",
        {"form": form, "owner": animal.owner, "animal": animal, "heading": heading, "nav": "clients"},
    )


@require_GET
@permission_required("animals.view_breed")
def breed_options(request):
    """The <option>s of the breed select for the chosen species (htmx swaps them in when the species changes)."""
    species_id = parse_id(request.GET.get("species"))
    breeds = Breed.objects.filter(species_id=species_id, is_active=True).order_by("name") if species_id else []
    return render(request, "animals/_breed_options.html", {"breeds": breeds})


def _owner_candidates(query: str, animal: Animal) -> list[Client]:
    if len(query) < SEARCH_MIN_LENGTH:
        return []
    hits = selectors.search(query=query, limit=40, include_inactive=False)
    seen: dict[int, Client] = {}
    for hit in hits:
        if hit.kind == "client" and hit.client.pk != animal.owner_id:
            seen.setdefault(hit.client.pk, hit.client)
    return list(seen.values())[:15]


@permission_required("animals.transfer_animal")
def animal_transfer(request, pk: int):
    animal = get_object_or_404(Animal.objects.select_related("owner", "species"), pk=pk)
    query = (request.POST.get("q") or request.GET.get("q") or "").strip()[:SEARCH_MAX_LENGTH]
    if request.htmx and request.method == "GET":
        return render(
            request,
            "animals/_owner_results.html",
            {"candidates": _owner_candidates(query, animal), "query": query, "min_length": SEARCH_MIN_LENGTH},
        )
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_owner = form.cleaned_data["to_owner"]
        try:
            animal = services.animal_transfer(
                animal=animal, to_owner=new_owner, by=request.user, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{animal.name} now belongs to {new_owner}.")
            return redirect("animals:detail", pk=animal.pk)
    candidates = _owner_candidates(query, animal)
    chosen = form.cleaned_data.get("to_owner") if form.is_bound else None
    if chosen and chosen not in candidates:
        candidates.insert(0, chosen)
    return render(
        request,
        "animals/transfer.html",
        {
            "animal": animal,
            "form": form,
            "query": query,
            "candidates": candidates,
            "chosen_pk": chosen.pk if chosen else None,
            "min_length": SEARCH_MIN_LENGTH,
            "nav": "clients",
        },
    )


@permission_required("animals.mark_animal_deceased")
def animal_deceased(request, pk: int):
    animal = get_object_or_404(Animal.objects.select_related("owner", "species"), pk=pk)
    if animal.is_deceased:
        messages.info(request, f"{animal.name} is already recorded as deceased.")
        return redirect("animals:detail", pk=animal.pk)
    form = DeceasedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.animal_mark_deceased(
                animal=animal, on=form.cleaned_data["deceased_on"], by=request.user, note=form.cleaned_data["note"]
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{animal.name} is recorded as deceased. They will get no more reminders.")
            return redirect("animals:detail", pk=animal.pk)
    return render(request, "animals/deceased.html", {"animal": animal, "form": form, "nav": "clients"})


def _set_active(request, pk: int, active: bool):
    animal = get_object_or_404(Animal, pk=pk)
    try:
        services.animal_set_active(animal=animal, active=active, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{animal.name} is {'active again' if active else 'now inactive'}.")
    return redirect("animals:detail", pk=animal.pk)


@require_POST
@permission_required("animals.deactivate_animal")
def animal_deactivate(request, pk: int):
    return _set_active(request, pk, active=False)


@require_POST
@permission_required("animals.deactivate_animal")
def animal_reactivate(request, pk: int):
    return _set_active(request, pk, active=True)


@permission_required("animals.add_weight")
def weight_add(request, pk: int):
    animal = get_object_or_404(Animal.objects.select_related("owner", "species"), pk=pk)
    if animal.is_deceased:
        messages.error(request, f"{animal.name} is deceased; no weight can be added.")
        return redirect("animals:detail", pk=animal.pk)
    form = WeightForm(request.POST or None)
    ask_confirm = False
    if request.method == "POST" and form.is_valid():
        try:
            weight = services.weight_record(
                animal=animal,
                kg=form.cleaned_data["kg"],
                measured_on=form.cleaned_data["measured_on"],
                confirm=form.cleaned_data["confirm"],
                by=request.user,
            )
        except (DomainError, ValidationError) as exc:
            ask_confirm = isinstance(exc, DomainError) and exc.code == "confirm_required"
            apply_service_error(form, exc, default_field="kg")
        else:
            messages.success(request, f"Weight {weight.kg.normalize():f} kg recorded for {animal.name}.")
            return redirect("animals:detail", pk=animal.pk)
    return render(
        request,
        "animals/weight_form.html",
        {"animal": animal, "form": form, "ask_confirm": ask_confirm, "nav": "clients"},
    )


# --- Species and breeds (managers) ---------------------------------------------------------------------------


@permission_required("animals.view_species", "animals.change_species")
def species_list(request):
    return render(
        request,
        "animals/species_list.html",
        {
            "species_list": selectors.species_with_breeds(),
            "nav": "species",
        },
    )


@permission_required("animals.add_species")
def species_create(request):
    form = SpeciesForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            species = services.species_save(
                by=request.user, name=form.cleaned_data["name"], is_active=form.cleaned_data["is_active"]
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="name")
        else:
            messages.success(request, f"Species {species} added.")
            return redirect("animals:species_list")
    return render(request, "animals/species_form.html", {"form": form, "nav": "species"})


@permission_required("animals.change_species")
def species_update(request, pk: int):
    species = get_object_or_404(Species, pk=pk)
    heading = species.name
    form = SpeciesForm(request.POST or None, instance=species)
    if request.method == "POST" and form.is_valid():
        try:
            species = services.species_save(
                by=request.user,
                species=Species.objects.get(pk=pk),
                name=form.cleaned_data["name"],
                is_active=form.cleaned_data["is_active"],
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="name")
        else:
            messages.success(request, f"Species {species} saved.")
            return redirect("animals:species_list")
    return render(
        request, "animals/species_form.html", {"form": form, "species": species, "heading": heading, "nav": "species"}
    )


@permission_required("animals.add_breed")
def breed_create(request, species_pk: int):
    species = get_object_or_404(Species, pk=species_pk)
    form = BreedForm(request.POST or None, species=species, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            breed = services.breed_save(
                by=request.user,
                species=species,
                name=form.cleaned_data["name"],
                is_active=form.cleaned_data["is_active"],
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="name")
        else:
            messages.success(request, f"Breed {breed} added to {species}.")
            return redirect("animals:species_list")
    return render(request, "animals/breed_form.html", {"form": form, "species": species, "nav": "species"})


@permission_required("animals.change_breed")
def breed_update(request, pk: int):
    breed = get_object_or_404(Breed.objects.select_related("species"), pk=pk)
    heading = breed.name
    form = BreedForm(request.POST or None, instance=breed, species=breed.species)
    if request.method == "POST" and form.is_valid():
        try:
            breed = services.breed_save(
                by=request.user,
                breed=Breed.objects.get(pk=pk),
                species=breed.species,
                name=form.cleaned_data["name"],
                is_active=form.cleaned_data["is_active"],
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="name")
        else:
            messages.success(request, f"Breed {breed} saved.")
            return redirect("animals:species_list")
    return render(
        request,
        "animals/breed_form.html",
        {"form": form, "species": breed.species, "breed": breed, "heading": heading, "nav": "species"},
    )
