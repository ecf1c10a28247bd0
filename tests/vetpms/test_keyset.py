"""Keyset pages (vetpms.keyset): every row exactly once, in order, whatever is added between two pages; both ways;
a cursor of another order starts over; a page costs the same queries on a deep page as on the first."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import selectors as client_selectors
from clients.models import Client
from invoicing import selectors as invoice_selectors
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from tests.factories import ClientFactory
from vetpms import audit
from vetpms.keyset import InvalidCursor, keyset_page

SURNAMES = ["Abbott", "Baker", "Baker", "Clark", "Baker", "Dyer", "Evans", "Abbott", "Fox", "Baker"]


def walk(qs_factory, *, per_page: int, between=None) -> list[int]:
    """The ids of every page of ``qs_factory()``, following next cursors; ``between(n)`` runs after page n."""
    seen: list[int] = []
    cursor = None
    for n in range(1000):
        page = keyset_page(qs_factory(), cursor=cursor, per_page=per_page)
        seen += [row.pk for row in page.rows]
        if not page.has_next:
            return seen
        if between:
            between(n)
        cursor = page.next_cursor
    raise AssertionError("the pages never ended")


def test_client_pages_give_every_row_once_in_order_while_clients_are_added(db):
    rng = random.Random(4)
    for _ in range(23):
        ClientFactory(last_name=rng.choice(SURNAMES), first_name=rng.choice(["Ann", "Bob", "Ann"]))
    before = set(Client.objects.values_list("pk", flat=True))
    added: list[Client] = []

    def add(n: int) -> None:  # one client that sorts before the pages read so far, one after
        added.append(ClientFactory(last_name="Aaron", first_name=f"New{n}"))
        added.append(ClientFactory(last_name="Zeta", first_name=f"New{n:03d}"))  # after every earlier one

    seen = walk(client_selectors.client_list, per_page=4, between=add)
    assert len(seen) == len(set(seen)), "a row repeated"
    assert before <= set(seen), "a row went missing"
    assert not {c.pk for c in added if c.last_name == "Aaron"} & set(seen)  # sorted before the cursor: not shown
    assert {c.pk for c in added if c.last_name == "Zeta"} <= set(seen)  # after it: shown on a later page
    in_order = list(client_selectors.client_list().filter(pk__in=seen).values_list("pk", flat=True))
    assert seen == in_order  # the list's own order (the database's collation), across the pages


def test_previous_pages_retrace_the_next_ones(db):
    for i in range(17):
        ClientFactory(last_name=SURNAMES[i % len(SURNAMES)], first_name="Sam")
    forward: list[list[int]] = []
    cursor = None
    while True:
        page = keyset_page(client_selectors.client_list(), cursor=cursor, per_page=5)
        forward.append([row.pk for row in page.rows])
        if not page.has_next:
            break
        cursor = page.next_cursor
    backward: list[list[int]] = [forward[-1]]
    while page.has_previous:
        page = keyset_page(client_selectors.client_list(), cursor=page.previous_cursor, per_page=5)
        backward.append([row.pk for row in page.rows])
    assert backward[::-1] == forward
    assert [len(p) for p in forward] == [5, 5, 5, 2]
    assert not page.has_previous and page.has_next


@pytest.fixture
def invoices(receptionist, consult_fee):
    """Issued invoices (with numbers and issue days) and drafts (no number, no issue day: NULLs in the order)."""
    made = []
    for i in range(9):
        client = ClientFactory(last_name=f"Owner{i}")
        invoice = invoice_draft_for(client=client, by=receptionist)
        invoice_add_line(invoice=invoice, by=receptionist, product=consult_fee, quantity=Decimal(1))
        made.append(invoice_finalise(invoice=invoice, by=receptionist) if i % 3 else invoice)
    return made


def test_invoice_pages_with_drafts_first_give_every_row_once(invoices, receptionist, consult_fee):
    assert invoice_selectors.invoice_list().filter(issue_date__isnull=True).count() == 3
    added = []

    def add(n: int) -> None:  # a new draft sorts first (before the cursor), a new issued one among the issued
        client = ClientFactory(last_name=f"Late{n}")
        draft = invoice_draft_for(client=client, by=receptionist)
        invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=Decimal(1))
        added.append(draft)

    seen = walk(invoice_selectors.invoice_list, per_page=2, between=add)
    assert len(seen) == len(set(seen))
    assert {i.pk for i in invoices} <= set(seen)
    listed = list(invoice_selectors.invoice_list().filter(pk__in=[i.pk for i in invoices]).values_list("pk", flat=True))
    assert [pk for pk in seen if pk in set(listed)] == listed  # the list's own order, drafts first


def test_a_cursor_from_another_order_or_edited_is_refused(db):
    for name in SURNAMES:
        ClientFactory(last_name=name)
    page = keyset_page(client_selectors.client_list(), cursor=None, per_page=3)
    with pytest.raises(InvalidCursor):
        keyset_page(client_selectors.client_list().order_by("town", "pk"), cursor=page.next_cursor, per_page=3)
    for bad in ["", "xyz", page.next_cursor[:-3] + "AAA", "W1tdXQ", "WyJuIiwiMDAiLFsxXV0"]:
        if bad:
            with pytest.raises(InvalidCursor):
                keyset_page(client_selectors.client_list(), cursor=bad, per_page=3)


def test_the_count_stops_at_the_cap(db):
    for name in SURNAMES:
        ClientFactory(last_name=name)
    page = keyset_page(client_selectors.client_list(), cursor=None, per_page=3, cap=7)
    assert (page.count, page.count_capped, page.count_label) == (7, True, "more than 7")
    page = keyset_page(client_selectors.client_list(), cursor=None, per_page=3, cap=10)
    assert (page.count, page.count_capped, page.count_label) == (10, False, "10")


# --- the pages ----------------------------------------------------------------------------------------------------


def _queries(http, url: str, params: dict) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_the_client_list_page_walks_by_cursor_and_costs_the_same_deep_or_shallow(as_receptionist):
    url = reverse("clients:list")
    for i in range(10):
        ClientFactory(last_name=f"Few{i:02d}")
    as_receptionist.get(url)  # session, content types
    few, _ = _queries(as_receptionist, url, {})
    for i in range(110):
        ClientFactory(last_name=f"Many{i:03d}")
    first, response = _queries(as_receptionist, url, {})
    assert response.context["table"].page.count == 120
    names: list[str] = []
    cursor = None
    deep_counts = []
    while True:
        count, response = _queries(as_receptionist, url, {"cursor": cursor} if cursor else {})
        deep_counts.append(count)
        page = response.context["table"].page
        names += [row.last_name for row in page.rows]
        if not page.has_next:
            break
        assert f"cursor={page.next_cursor}" in response.content.decode()
        cursor = page.next_cursor
    assert names == sorted(names) and len(names) == len(set(names)) == 120
    assert few == first and set(deep_counts) == {first}


def test_a_stale_or_foreign_cursor_shows_the_first_page(as_receptionist):
    for name in SURNAMES * 3:
        ClientFactory(last_name=name)
    url = reverse("clients:list")
    first = as_receptionist.get(url).context["table"].page
    for cursor in ["nonsense", "W1tdXQ"]:
        assert [r.pk for r in as_receptionist.get(url, {"cursor": cursor}).context["table"].page.rows] == [
            r.pk for r in first.rows
        ]
    resorted = as_receptionist.get(url, {"cursor": first.next_cursor, "sort": "town"})
    assert resorted.status_code == 200 and not resorted.context["table"].page.has_previous


def test_the_invoice_list_costs_the_same_queries_on_every_page(invoices, as_receptionist, receptionist, consult_fee):
    url = reverse("invoicing:list")
    as_receptionist.get(url)
    few, _ = _queries(as_receptionist, url, {})
    for i in range(40):
        client = ClientFactory(last_name=f"More{i}")
        invoice = invoice_draft_for(client=client, by=receptionist)
        invoice_add_line(invoice=invoice, by=receptionist, product=consult_fee, quantity=Decimal(1))
        invoice_finalise(invoice=invoice, by=receptionist)
    first, response = _queries(as_receptionist, url, {})
    seen = [r.pk for r in response.context["table"].page.rows]
    cursor = response.context["table"].page.next_cursor
    while cursor:
        count, response = _queries(as_receptionist, url, {"cursor": cursor})
        assert count == first
        seen += [r.pk for r in response.context["table"].page.rows]
        cursor = response.context["table"].page.next_cursor
    assert few == first and len(seen) == len(set(seen)) == 49


def test_the_audit_trail_costs_the_same_queries_on_every_page(as_manager, receptionist):
    owner = ClientFactory()
    url = reverse("audit", args=["client", owner.pk])
    for i in range(10):
        audit.record(actor=receptionist, obj=owner, action="update", changes={"notes": [str(i), str(i + 1)]})
    as_manager.get(url)
    few, _ = _queries(as_manager, url, {})
    for i in range(10, 80):
        audit.record(actor=receptionist, obj=owner, action="update", changes={"notes": [str(i), str(i + 1)]})
    first, response = _queries(as_manager, url, {})
    seen = [e.pk for e in response.context["page"].rows]
    cursor = response.context["page"].next_cursor
    while cursor:
        count, response = _queries(as_manager, url, {"cursor": cursor})
        assert count == first
        seen += [e.pk for e in response.context["page"].rows]
        cursor = response.context["page"].next_cursor
    assert few == first and len(set(seen)) == 80


def _walk_page(http, url: str, context_key: str = "table") -> tuple[list[int], set[int]]:
    seen: list[int] = []
    counts: set[int] = set()
    params: dict = {}
    while True:
        count, response = _queries(http, url, params)
        counts.add(count)
        page = response.context[context_key].page
        seen += [row.pk for row in page.rows]
        if not page.has_next:
            return seen, counts
        params = {"cursor": page.next_cursor}


def test_the_reminders_due_list_and_delivery_log_cost_the_same_queries_for_10_or_60_rows(as_receptionist, vet_user):
    from tests.reminders.ui_data import make_delivery, make_reminder, make_type, seen_by

    booster = make_type("DHPP booster")

    def add(n: int) -> None:
        for i in range(n):
            reminder = make_reminder(booster, due=i % 9 - 4)  # several due the same day: the id breaks ties
            seen_by(reminder.animal, vet_user.vet)
            make_delivery([reminder])

    add(10)
    as_receptionist.get(reverse("reminders:list"))
    few_reminders, few_counts = _walk_page(as_receptionist, reverse("reminders:list"))
    few_deliveries, few_log_counts = _walk_page(as_receptionist, reverse("reminders:delivery_list"))
    add(50)
    reminders, counts = _walk_page(as_receptionist, reverse("reminders:list"))
    deliveries, log_counts = _walk_page(as_receptionist, reverse("reminders:delivery_list"))
    assert (len(few_reminders), len(reminders), len(set(reminders))) == (10, 60, 60)
    assert (len(few_deliveries), len(deliveries), len(set(deliveries))) == (10, 60, 60)
    assert few_counts == counts and len(counts) == 1
    assert few_log_counts == log_counts and len(log_counts) == 1


def test_a_cursor_with_values_of_the_wrong_type_is_refused(db):
    from vetpms.keyset import encode_cursor, keys_of

    for name in SURNAMES:
        ClientFactory(last_name=name)
    keys = keys_of(client_selectors.client_list())
    with pytest.raises(InvalidCursor):  # a text where the id goes
        keyset_page(client_selectors.client_list(), cursor=encode_cursor("n", keys, ["A", "B", "", "x"]), per_page=3)
    invoice_keys = keys_of(invoice_selectors.invoice_list())
    forged = encode_cursor("n", invoice_keys, ["not a date", 1, 1])
    with pytest.raises(InvalidCursor):
        keyset_page(invoice_selectors.invoice_list(), cursor=forged, per_page=3)
