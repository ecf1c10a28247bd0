"""Animal, species and breed pages: permissions, forms with good and bad input, the weight chart, escaping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from animals.charts import weight_chart
from animals.models import Animal, Breed, Ownership, Species, Weight
from tests.factories import AnimalFactory, ClientFactory, WeightFactory, breed, species
from vetpms.models import AuditEntry

pytestmark = pytest.mark.django_db

CHIP = "985141000123456"


def animal_data(**overrides):
    data = {
        "name": "Rex",
        "species": species("Dog").pk,
        "breed": breed("Dog", "Labrador Retriever").pk,
        "sex": "male",
        "neuter_status": "entire",
        "date_of_birth": (timezone.localdate() - dt.timedelta(days=800)).isoformat(),
        "date_of_birth_estimated": "",
        "colour": "Black",
        "microchip": "",
        "alerts": "",
        "notes": "",
    }
    data.update(overrides)
    return data


# --- Who may open what ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("receptionist", 200), ("vet", 200), ("manager", 200), ("nobody", 403)])
def test_animal_detail_and_create_pages_by_role(users, login, role, status):
    animal = AnimalFactory()
    http = login(users[role])
    assert http.get(reverse("animals:detail", args=[animal.pk])).status_code == status
    assert http.get(reverse("animals:create", args=[animal.owner.pk])).status_code == status
    assert http.get(reverse("animals:update", args=[animal.pk])).status_code == status
    assert http.get(reverse("animals:deceased", args=[animal.pk])).status_code == status
    assert http.get(reverse("animals:weight_add", args=[animal.pk])).status_code == status


@pytest.mark.parametrize(("role", "status"), [("receptionist", 200), ("vet", 403), ("manager", 200), ("nobody", 403)])
def test_transfer_page_needs_transfer_permission(users, login, role, status):
    animal = AnimalFactory()
    assert login(users[role]).get(reverse("animals:transfer", args=[animal.pk])).status_code == status


@pytest.mark.parametrize(
    ("role", "allowed"), [("receptionist", True), ("vet", False), ("manager", True), ("nobody", False)]
)
def test_deactivating_an_animal_needs_permission(users, login, role, allowed):
    animal = AnimalFactory()
    response = login(users[role]).post(reverse("animals:deactivate", args=[animal.pk]))
    animal.refresh_from_db()
    assert response.status_code == (HTTPStatus.FOUND if allowed else HTTPStatus.FORBIDDEN)
    assert animal.is_active is not allowed


def test_reactivating_an_animal(as_receptionist):
    animal = AnimalFactory(is_active=False)
    as_receptionist.post(reverse("animals:reactivate", args=[animal.pk]))
    animal.refresh_from_db()
    assert animal.is_active


@pytest.mark.parametrize("name", ["animals:deactivate", "animals:reactivate"])
def test_activation_actions_reject_get(as_manager, name):
    animal = AnimalFactory()
    assert as_manager.get(reverse(name, args=[animal.pk])).status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.parametrize(("role", "status"), [("receptionist", 403), ("vet", 403), ("manager", 200), ("nobody", 403)])
def test_species_management_is_for_managers(users, login, role, status):
    dog = species("Dog")
    lab = breed("Dog", "Labrador Retriever")
    http = login(users[role])
    assert http.get(reverse("animals:species_list")).status_code == status
    assert http.get(reverse("animals:species_create")).status_code == status
    assert http.get(reverse("animals:species_update", args=[dog.pk])).status_code == status
    assert http.get(reverse("animals:breed_create", args=[dog.pk])).status_code == status
    assert http.get(reverse("animals:breed_update", args=[lab.pk])).status_code == status


def test_receptionist_cannot_manage_species(as_receptionist):
    response = as_receptionist.post(reverse("animals:species_create"), {"name": "Llama", "is_active": "on"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Species.objects.filter(name="Llama").exists()
    assert "not part of your role" in response.content.decode()


def test_anonymous_is_sent_to_login_from_animal_pages(client):
    animal = AnimalFactory()
    for url in [reverse("animals:detail", args=[animal.pk]), reverse("animals:species_list")]:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response.url.startswith(reverse("login"))


def test_unknown_and_non_numeric_animal_ids_are_404(as_receptionist):
    assert as_receptionist.get("/animals/987654/").status_code == 404
    assert as_receptionist.get("/animals/rex/").status_code == 404
    assert as_receptionist.get("/clients/987654/animals/new/").status_code == 404


# --- Detail ---------------------------------------------------------------------------------------------------


def test_animal_detail_shows_owner_age_chip_alerts_weights_and_history(as_vet):
    owner = ClientFactory(last_name="Watson")
    animal = AnimalFactory(
        owner=owner,
        name="Toby",
        microchip=CHIP,
        alerts="Bites\nAllergic to penicillin",
        date_of_birth=timezone.localdate() - dt.timedelta(days=3 * 365 + 70),
    )
    WeightFactory(animal=animal, kg="30.500", measured_on=timezone.localdate() - dt.timedelta(days=60))
    WeightFactory(animal=animal, kg="31.250", measured_on=timezone.localdate())
    body = as_vet.get(reverse("animals:detail", args=[animal.pk])).content.decode()
    assert "Watson" in body
    assert animal.age in body and animal.age.startswith("3 y")
    assert CHIP in body
    assert "Bites" in body and "Allergic to penicillin" in body and "animal-alerts" in body
    assert "<svg" in body and "Weight of Toby over time, in kg" in body
    assert "31.25" in body
    assert "No appointments yet." in body and "Nothing charged yet." in body  # the history card
    assert "Current" in body  # ownership history


def test_animal_detail_query_count_is_flat(as_vet, django_assert_max_num_queries):
    animal = AnimalFactory()
    for i in range(30):
        WeightFactory(animal=animal, kg=str(10 + i), measured_on=timezone.localdate() - dt.timedelta(days=i))
    # Session, user, permissions (2), the animal with its owner, its ownerships, its weights (the latest and the
    # chart's sample, 1), the animal's latest appointments, charges and reminders (2) in the history card and its
    # policies, plus the clinical record's cards: the problem list (1), the vets who may start a consultation (1);
    # the patient history's entries load after the page (clinical.views.history)
    as_vet.get(reverse("animals:detail", args=[animal.pk]))  # the first request also saves the session
    with django_assert_max_num_queries(14):
        assert as_vet.get(reverse("animals:detail", args=[animal.pk])).status_code == 200


def test_vet_sees_no_transfer_button(as_vet):
    animal = AnimalFactory()
    body = as_vet.get(reverse("animals:detail", args=[animal.pk])).content.decode()
    assert reverse("animals:transfer", args=[animal.pk]) not in body
    assert reverse("animals:update", args=[animal.pk]) in body


# --- Create and edit ------------------------------------------------------------------------------------------


def test_receptionist_adds_a_dog_with_spaced_microchip(as_receptionist, receptionist):
    owner = ClientFactory()
    response = as_receptionist.post(
        reverse("animals:create", args=[owner.pk]), animal_data(microchip="985 141 000-123 456"), follow=True
    )
    animal = Animal.objects.get(name="Rex")
    assert response.redirect_chain[-1][0] == reverse("animals:detail", args=[animal.pk])
    assert animal.owner == owner and animal.microchip == CHIP
    assert Ownership.objects.filter(animal=animal, client=owner, ended_at__isnull=True).exists()
    assert "Rex added to" in response.content.decode()
    assert AuditEntry.objects.filter(object_id=str(animal.pk), action="create", actor=receptionist).exists()


def test_duplicate_living_microchip_is_reported_beside_the_field_naming_the_holder(as_receptionist):
    holder = AnimalFactory(name="Bella", microchip=CHIP)
    owner = ClientFactory()
    response = as_receptionist.post(reverse("animals:create", args=[owner.pk]), animal_data(microchip=CHIP))
    assert response.status_code == 200
    errors = response.context["form"].errors["microchip"]
    assert any("Bella" in e and str(holder.owner) in e for e in errors)
    assert not Animal.objects.filter(name="Rex").exists()


def test_chip_of_a_deceased_animal_may_be_reused(as_receptionist):
    AnimalFactory(name="Oldie", microchip=CHIP, deceased_on=timezone.localdate())
    owner = ClientFactory()
    as_receptionist.post(reverse("animals:create", args=[owner.pk]), animal_data(microchip=CHIP))
    assert Animal.objects.get(name="Rex").microchip == CHIP


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("microchip", "12345"),
        ("microchip", "abc def"),
        ("microchip", "999" + "1" * 12),
        ("name", "x" * 5000),
        ("name", ""),
        ("species", "999999"),
        ("species", "dog"),
        ("date_of_birth", (timezone.localdate() + dt.timedelta(days=3)).isoformat()),
        ("date_of_birth", "31/02/2020"),
        ("sex", "robot"),
    ],
)
def test_bad_animal_input_is_a_field_error_and_keeps_the_rest(as_receptionist, field, value):
    owner = ClientFactory()
    response = as_receptionist.post(
        reverse("animals:create", args=[owner.pk]), animal_data(**{field: value}, notes="Keep me")
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "Keep me" in response.content.decode()
    assert not Animal.objects.exists()


def test_breed_of_another_species_is_refused(as_receptionist):
    owner = ClientFactory()
    response = as_receptionist.post(reverse("animals:create", args=[owner.pk]), animal_data(species=species("Cat").pk))
    assert "breed" in response.context["form"].errors


def test_breed_options_follow_the_species(as_receptionist):
    response = as_receptionist.get(reverse("animals:breed_options"), {"species": species("Cat").pk})
    body = response.content.decode()
    assert "Unknown / cross-breed" in body
    cat_breed = Breed.objects.filter(species__name="Cat").first()
    assert cat_breed.name in body
    assert "Labrador Retriever" not in body


def test_breed_options_with_garbage_species_is_just_the_empty_choice(as_receptionist):
    response = as_receptionist.get(reverse("animals:breed_options"), {"species": "<x>"})
    assert response.status_code == 200
    assert response.content.decode().count("<option") == 1


def test_animal_form_reloads_breeds_with_htmx_when_species_changes(as_receptionist):
    owner = ClientFactory()
    body = as_receptionist.get(reverse("animals:create", args=[owner.pk])).content.decode()
    assert f'hx-get="{reverse("animals:breed_options")}"' in body
    assert 'hx-target="#id_breed"' in body


def test_editing_an_animal(as_vet):
    animal = AnimalFactory(name="Before")
    response = as_vet.post(
        reverse("animals:update", args=[animal.pk]), animal_data(name="After", alerts="Nervous"), follow=True
    )
    animal.refresh_from_db()
    assert animal.name == "After" and animal.alerts == "Nervous"
    assert "Changes to After saved." in response.content.decode()


def test_adding_an_animal_to_an_inactive_client_is_refused(as_receptionist):
    owner = ClientFactory(is_active=False)
    response = as_receptionist.post(reverse("animals:create", args=[owner.pk]), animal_data())
    assert response.status_code == 200
    assert "inactive" in response.content.decode()
    assert not Animal.objects.exists()


# --- Transfer, deceased, weights ------------------------------------------------------------------------------


def test_transfer_search_offers_active_clients_but_not_the_current_owner(as_receptionist):
    animal = AnimalFactory(owner=ClientFactory(last_name="Oldowner"))
    ClientFactory(last_name="Newowner")
    ClientFactory(last_name="Newgone", is_active=False)
    url = reverse("animals:transfer", args=[animal.pk])
    body = as_receptionist.get(url, {"q": "new"}, headers={"HX-Request": "true"}).content.decode()
    assert "Newowner" in body
    assert "Newgone" not in body
    body = as_receptionist.get(url, {"q": "oldowner"}).content.decode()
    assert f'name="to_owner" value="{animal.owner.pk}"' not in body


def test_transfer_moves_the_animal_and_keeps_history(as_receptionist):
    old = ClientFactory(last_name="Oldowner")
    new = ClientFactory(last_name="Newowner")
    animal = AnimalFactory(owner=old)
    response = as_receptionist.post(
        reverse("animals:transfer", args=[animal.pk]), {"to_owner": new.pk, "note": "rehomed"}, follow=True
    )
    animal.refresh_from_db()
    assert animal.owner == new
    assert Ownership.objects.filter(animal=animal).count() == 2
    body = response.content.decode()
    assert "now belongs to" in body and "Oldowner" in body and "rehomed" in body


def test_transfer_without_choosing_an_owner_is_an_error(as_receptionist):
    animal = AnimalFactory()
    response = as_receptionist.post(reverse("animals:transfer", args=[animal.pk]), {"to_owner": ""})
    assert "Choose the new owner." in response.content.decode()


def test_transfer_to_an_inactive_client_is_refused(as_receptionist):
    animal = AnimalFactory()
    gone = ClientFactory(is_active=False)
    response = as_receptionist.post(reverse("animals:transfer", args=[animal.pk]), {"to_owner": gone.pk})
    assert response.status_code == 200
    assert "inactive" in " ".join(response.context["form"].errors["to_owner"])
    animal.refresh_from_db()
    assert animal.owner != gone


def test_marking_deceased(as_vet):
    animal = AnimalFactory(name="Patch")
    day = timezone.localdate() - dt.timedelta(days=1)
    response = as_vet.post(reverse("animals:deceased", args=[animal.pk]), {"deceased_on": day.isoformat()}, follow=True)
    animal.refresh_from_db()
    assert animal.deceased_on == day
    assert "Deceased" in response.content.decode()


def test_date_of_death_in_the_future_is_a_field_error(as_vet):
    animal = AnimalFactory()
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = as_vet.post(reverse("animals:deceased", args=[animal.pk]), {"deceased_on": future})
    assert "deceased_on" in response.context["form"].errors
    animal.refresh_from_db()
    assert animal.deceased_on is None


def test_adding_a_weight(as_vet):
    animal = AnimalFactory()
    response = as_vet.post(
        reverse("animals:weight_add", args=[animal.pk]),
        {"kg": "12.4", "measured_on": timezone.localdate().isoformat()},
        follow=True,
    )
    assert Weight.objects.get(animal=animal).kg == Decimal("12.400")
    assert "Weight 12.4 kg recorded" in response.content.decode()


@pytest.mark.parametrize("kg", ["-1", "0", "abc", "99999", "1.23456"])
def test_bad_weight_is_a_field_error(as_vet, kg):
    animal = AnimalFactory()
    response = as_vet.post(
        reverse("animals:weight_add", args=[animal.pk]), {"kg": kg, "measured_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 200
    assert "kg" in response.context["form"].errors
    assert not Weight.objects.exists()


def test_weight_in_the_future_is_refused(as_vet):
    animal = AnimalFactory()
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = as_vet.post(reverse("animals:weight_add", args=[animal.pk]), {"kg": "3", "measured_on": future})
    assert "measured_on" in response.context["form"].errors


# --- Chart ----------------------------------------------------------------------------------------------------


def test_weight_chart_places_points_by_date_and_weight():
    animal = AnimalFactory()
    today = timezone.localdate()
    light = WeightFactory(animal=animal, kg="10.000", measured_on=today - dt.timedelta(days=100))
    heavy = WeightFactory(animal=animal, kg="14.000", measured_on=today)
    chart = weight_chart([heavy, light])
    (x1, y1, kg1, _), (x2, y2, kg2, _) = chart.points
    assert (kg1, kg2) == ("10", "14")
    assert x1 < x2  # older first, left
    assert y1 > y2  # heavier higher up
    assert "lowest 10 kg, highest 14 kg, latest 14 kg" in chart.summary
    assert weight_chart([]) is None


def test_single_weight_chart_does_not_divide_by_zero():
    chart = weight_chart([WeightFactory(kg="4.200")])
    assert len(chart.points) == 1


# --- Species and breeds ---------------------------------------------------------------------------------------


def test_manager_adds_and_renames_a_species(as_manager):
    response = as_manager.post(reverse("animals:species_create"), {"name": "Llama", "is_active": "on"}, follow=True)
    llama = Species.objects.get(name="Llama")
    assert "Species Llama added." in response.content.decode()
    as_manager.post(reverse("animals:species_update", args=[llama.pk]), {"name": "Alpaca"})
    llama.refresh_from_db()
    assert llama.name == "Alpaca" and llama.is_active is False


def test_duplicate_species_name_is_a_field_error(as_manager):
    response = as_manager.post(reverse("animals:species_create"), {"name": "Dog", "is_active": "on"})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors


def test_manager_adds_and_deactivates_a_breed(as_manager):
    dog = species("Dog")
    as_manager.post(reverse("animals:breed_create", args=[dog.pk]), {"name": "Otterhound", "is_active": "on"})
    otter = Breed.objects.get(name="Otterhound", species=dog)
    as_manager.post(reverse("animals:breed_update", args=[otter.pk]), {"name": "Otterhound"})
    otter.refresh_from_db()
    assert otter.is_active is False


def test_duplicate_breed_of_same_species_is_an_error(as_manager):
    dog = species("Dog")
    response = as_manager.post(
        reverse("animals:breed_create", args=[dog.pk]), {"name": "Labrador Retriever", "is_active": "on"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Breed.objects.filter(species=dog, name="Labrador Retriever").count() == 1


def test_inactive_species_is_not_offered_for_new_animals(as_receptionist):
    Species.objects.filter(name="Ferret").update(is_active=False)
    owner = ClientFactory()
    form = as_receptionist.get(reverse("animals:create", args=[owner.pk])).context["form"]
    names = [s.name for s in form.fields["species"].queryset]
    assert "Ferret" not in names and "Dog" in names


# --- Escaping -------------------------------------------------------------------------------------------------


def test_html_in_animal_fields_is_escaped_on_every_page(as_manager):
    evil = '<script>alert("x")</script>'
    animal = AnimalFactory(name=evil, alerts=evil, notes=evil, colour="<img src=x onerror=alert(1)>")
    WeightFactory(animal=animal)
    urls = [
        reverse("animals:detail", args=[animal.pk]),
        reverse("animals:update", args=[animal.pk]),
        reverse("animals:transfer", args=[animal.pk]),
        reverse("animals:deceased", args=[animal.pk]),
        reverse("clients:detail", args=[animal.owner.pk]),
        reverse("search") + "?q=" + animal.owner.last_name,
    ]
    for url in urls:
        body = as_manager.get(url).content.decode()
        assert "<script>alert(" not in body, url
        assert "<img src=x" not in body, url
