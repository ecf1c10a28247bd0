"""Problems and alerts (incl. the day list), quick texts, the products that fit a patient, the admin."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from appointments.flags import flags_for
from clinical import selectors
from clinical.models import ProductSpecies, QuickText
from clinical.services import consultation_open, problem_save
from invoicing.models import Product
from invoicing.services import invoice_add_line, invoice_draft_for
from tests.factories import AnimalFactory, species
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db


def test_a_problem_from_a_diagnosis_resolves_and_reopens(dog, vet_user, otitis, walk_in):
    problem = problem_save(
        by=vet_user, animal=dog, data={"diagnosis": otitis, "is_alert": True}, consultations=[walk_in]
    )
    assert problem.condition == "Otitis externa" and list(problem.consultations.all()) == [walk_in]
    problem = problem_save(by=vet_user, problem=problem, data={"status": "resolved"})
    assert problem.resolved_on == timezone.localdate()
    problem = problem_save(by=vet_user, problem=problem, data={"status": "chronic"})
    assert problem.resolved_on is None


def test_problem_rules(dog, vet_user):
    with pytest.raises(ValidationError):
        problem_save(by=vet_user, animal=dog, data={})
    with pytest.raises(ValidationError):
        problem_save(
            by=vet_user,
            animal=dog,
            data={"condition": "Arthritis", "onset": timezone.localdate() + dt.timedelta(days=1)},
        )
    other = consultation_open(animal=AnimalFactory(), by=vet_user)
    with pytest.raises(DomainError):
        problem_save(by=vet_user, animal=dog, data={"condition": "Arthritis"}, consultations=[other])


def test_alerts_reach_the_day_list(appointment, vet_user, receptionist):
    problem_save(by=vet_user, animal=appointment.animal, data={"condition": "Diabetic: insulin", "is_alert": True})
    problem_save(
        by=vet_user,
        animal=appointment.animal,
        data={"condition": "Old fracture", "status": "resolved", "is_alert": True},
    )
    problem_save(by=vet_user, animal=appointment.animal, data={"condition": "Mild tartar"})
    flags = flags_for([appointment], vet_user)
    labels = [f.label for f in flags.get(appointment.pk, [])]
    assert "Diabetic: insulin" in labels and "Old fracture" not in labels and "Mild tartar" not in labels


def test_quick_texts_of_the_consultation_type(consultation, consult, manager):
    from appointments.models import AppointmentType

    other = AppointmentType.objects.create(name="Dental", default_minutes=60, colour="#aa3366")
    mine = QuickText.objects.create(title="Healthy", section="objective", appointment_type=consult, text="NAD")
    everyone = QuickText.objects.create(title="Advice", section="plan", text="Recheck if worse")
    QuickText.objects.create(title="Scale", section="plan", appointment_type=other, text="Scale and polish")
    assert set(selectors.quick_texts_for(consultation=consultation)) == {mine, everyone}
    assert list(selectors.quick_texts_for(consultation=consultation, section="plan")) == [everyone]


def test_products_fit_the_species_most_used_first(vet_user, standard, consult_fee, amoxicillin):
    cat_food = Product.objects.create(
        code="FOOD-CAT", name="Cat food", category="retail", unit_price=Decimal("9.99"), tax_category=standard
    )
    ProductSpecies.objects.create(product=cat_food, species=species("Cat"))
    dog = AnimalFactory(species=species("Dog"))
    invoice = invoice_draft_for(client=dog.owner, by=vet_user)
    for _ in range(3):
        invoice_add_line(invoice=invoice, by=vet_user, product=amoxicillin, quantity=Decimal(1), animal=dog)
    invoice_add_line(invoice=invoice, by=vet_user, product=consult_fee, quantity=Decimal(1), animal=dog)
    picked = selectors.products_for_species(species=species("Dog"))
    assert picked[:2] == [amoxicillin, consult_fee] and cat_food not in picked
    assert cat_food in selectors.products_for_species(species=species("Cat"))
    assert selectors.products_for_species(species=species("Dog"), query="amox") == [amoxicillin]
    assert len(selectors.products_for_species(species=species("Dog"), limit=1000)) <= 50


def test_the_admin_shows_consultations_read_only(walk_in, client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-only")
    client.force_login(admin)
    page = client.get(reverse("admin:clinical_consultation_change", args=[walk_in.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:clinical_consultation_add")).status_code == 403
    assert (
        client.post(reverse("admin:clinical_consultation_delete", args=[walk_in.pk]), {"post": "yes"}).status_code
        == 403
    )


def test_most_used_means_recently_and_costs_four_queries(
    vet_user, consult_fee, amoxicillin, monkeypatch, django_assert_num_queries
):
    dog = AnimalFactory(species=species("Dog"))
    invoice = invoice_draft_for(client=dog.owner, by=vet_user)
    for _ in range(3):  # used a lot, long ago
        invoice_add_line(invoice=invoice, by=vet_user, product=amoxicillin, quantity=Decimal(1), animal=dog)
    for _ in range(2):  # the latest charges
        invoice_add_line(invoice=invoice, by=vet_user, product=consult_fee, quantity=Decimal(1), animal=dog)
    monkeypatch.setattr(selectors, "RECENT_LINES", 2)
    dogs = species("Dog")
    with django_assert_num_queries(4):
        picked = selectors.products_for_species(species=dogs, limit=2)
    assert picked == [consult_fee, amoxicillin]


def test_most_used_is_counted_per_species(vet_user, consult_fee, amoxicillin, django_assert_max_num_queries):
    dog = AnimalFactory(species=species("Dog"))
    cat = AnimalFactory(species=species("Cat"), owner=dog.owner)
    invoice = invoice_draft_for(client=dog.owner, by=vet_user)
    for _ in range(3):  # the cats are given amoxicillin most
        invoice_add_line(invoice=invoice, by=vet_user, product=amoxicillin, quantity=Decimal(1), animal=cat)
    invoice_add_line(invoice=invoice, by=vet_user, product=consult_fee, quantity=Decimal(1), animal=dog)
    invoice_add_line(invoice=invoice, by=vet_user, product=consult_fee, quantity=Decimal(1), animal=cat)
    dogs = species("Dog")
    with django_assert_max_num_queries(4):
        for_dogs = selectors.products_for_species(species=dogs, limit=2)
    assert for_dogs[0] == consult_fee
    assert selectors.products_for_species(species=species("Cat"), limit=2) == [amoxicillin, consult_fee]
    # A species nobody has charged for yet: the catalogue that fits it, by name.
    rabbits = selectors.products_for_species(species=species("Rabbit"), limit=50)
    assert rabbits == sorted(rabbits, key=lambda p: p.name)
