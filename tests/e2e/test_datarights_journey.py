"""A manager answers an owner's request to be forgotten: from the client page to Data rights, downloads the copy
of their data first, types the owner's name and erases them; the client page then shows only the placeholder."""

import re

import pytest
from playwright.sync_api import expect

from clients.services import client_create
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role

PASSWORD = "correct-horse-battery"


@pytest.fixture
def boss(transactional_db):
    return UserFactory(username="boss", first_name="Mona", last_name="Manager", role=Role.MANAGER)


def test_manager_downloads_the_copy_and_erases_an_owner(page, log_in, screenshot, boss):
    owner = client_create(by=boss, first_name="Imelda", last_name="Vosperine", email="imelda.v@example.org",
                          mobile_phone="07400 634311", address_line1="3 Tidewell Row", postcode="WX7 7AA")  # fmt: skip
    AnimalFactory(owner=owner, name="Muffin")
    log_in("boss", PASSWORD)
    page.goto(f"/clients/{owner.pk}/")
    page.get_by_role("link", name="Data rights").click()
    expect(page.get_by_role("heading", name=re.compile("Data rights: Imelda Vosperine"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename.startswith(f"subject-access-client-{owner.pk}-")
    page.fill("input[name=confirm_name]", "Imelda Vosper")
    page.get_by_role("button", name="Erase this owner's personal data").click()
    expect(page.get_by_text("Type the owner's name exactly as shown")).to_be_visible()
    screenshot("wrong-name")
    page.fill("input[name=confirm_name]", "Imelda Vosperine")
    page.get_by_role("button", name="Erase this owner's personal data").click()
    expect(page.get_by_text("has been erased")).to_be_visible()
    screenshot("erased")
    owner.refresh_from_db()
    assert owner.last_name == f"Erased client {owner.pk}" and owner.email == ""
    page.goto(f"/clients/{owner.pk}/")
    expect(page.get_by_role("heading", name=f"Erased client {owner.pk}")).to_be_visible()
    assert "Vosperine" not in page.content()
