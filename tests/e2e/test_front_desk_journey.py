"""A receptionist registers a new client and their dog, then finds the dog again from the header search box,
by the pet's name and by the owner's phone number typed in another format."""

import re

import pytest
from playwright.sync_api import expect

from animals.models import Animal
from clients.models import Client
from tests.factories import UserFactory
from vetpms.models import Role

PASSWORD = "correct-horse-battery"


@pytest.fixture
def desk(transactional_db):
    return UserFactory(username="frontdesk", first_name="Fran", last_name="Desk", role=Role.RECEPTIONIST)


def test_receptionist_registers_a_client_and_a_dog_then_finds_it(page, log_in, screenshot, desk):
    log_in("frontdesk", PASSWORD)
    expect(page.get_by_role("link", name="New client").first).to_be_visible()

    page.get_by_role("link", name="New client").first.click()
    page.select_option("select[name=title]", "Ms")
    page.fill("input[name=first_name]", "Harriet")
    page.fill("input[name=last_name]", "Quennell")
    page.fill("input[name=email]", "harriet.quennell@example.com")
    page.fill("input[name=mobile_phone]", "0113 496 0742")
    page.fill("input[name=address_line1]", "4 Mill Lane")
    page.fill("input[name=postcode]", "LS1 4AB")
    page.check("input[name=reminder_consent]")
    screenshot("client-form")
    page.get_by_role("button", name="Create client").click()

    expect(page.get_by_role("heading", name=re.compile("Harriet Quennell"))).to_be_visible()
    client = Client.objects.get(last_name="Quennell")
    assert client.mobile_phone == "+441134960742"
    assert client.reminder_consent and client.consent_changed_at is not None

    page.get_by_role("link", name="Add a pet").first.click()
    page.wait_for_load_state("load")  # htmx (a deferred script) reloads the breeds once it is listening
    page.fill("input[name=name]", "Pickle")
    page.select_option("select[name=species]", label="Dog")
    # the breed list reloads for the chosen species
    expect(page.locator("select[name=breed] option", has_text="Border Collie")).to_have_count(1)
    page.select_option("select[name=breed]", label="Border Collie")
    page.select_option("select[name=sex]", "female")
    page.fill("input[name=date_of_birth]", "2023-05-14")
    page.fill("input[name=microchip]", "985 141 000 742 001")
    page.fill("textarea[name=alerts]", "Nervous at the vet")
    page.get_by_role("button", name="Add pet").click()

    expect(page.get_by_role("heading", name=re.compile("Pickle"))).to_be_visible()
    expect(page.get_by_text("Nervous at the vet").first).to_be_visible()
    pickle = Animal.objects.get(name="Pickle")
    assert pickle.owner == client and pickle.microchip == "985141000742001"
    screenshot("animal-page")

    # Find her by name from the header box: results appear as you type.
    page.wait_for_load_state("load")
    search = page.locator("#global-q")
    search.fill("pick")
    result = page.locator("#global-search-results a", has_text="Pickle")
    expect(result).to_be_visible()
    screenshot("search-by-name")

    # ... and by the owner's phone number typed the international way; Enter opens the full results page.
    search.fill("+44 113 4960742")
    expect(page.locator("#global-search-results a", has_text="Pickle")).to_be_visible()
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q="))
    page.get_by_role("link", name="Pickle").first.click()
    expect(page).to_have_url(re.compile(rf"/animals/{pickle.pk}/$"))
    screenshot("found-by-phone")
