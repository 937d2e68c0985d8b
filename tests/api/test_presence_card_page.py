"""The page she keeps, in a real browser: a QR code for her app, or her card of codes; it
names neither her, the order nor what it is for, and its staff notes do not print."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import segno
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from orders.clock import SimulatedClock
from orders.presence import ISSUER
from tests.api.conftest import SOCIAL_WORKER, SUPERVISOR, issued, post
from tests.browser import browser  # noqa: F401 (the fixture)

AS_A_PAGE = SOCIAL_WORKER | {"Accept": "text/html"}
NEVER_ON_IT = ("Aizada", "Emir", "Ruslan", "protection", "order", "Lenin")


def enrolled_page(client: TestClient, order_id: str, kind: str) -> str:
    response = client.post(
        f"/orders/{order_id}/presence-proofs",
        json={"person_id": "p1", "kind": kind},
        headers=AS_A_PAGE,
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "no-store"
    html = response.text
    assert not [w for w in NEVER_ON_IT if re.search(rf"\b{w}\b", html, re.IGNORECASE)]
    assert order_id not in html
    return html


def test_the_app_page_holds_a_qr_code_of_her_key_and_prints_without_staff_notes(
    client: TestClient,
    clock: SimulatedClock,
    browser: Browser,  # noqa: F811
) -> None:
    order_id = issued(client, clock)
    html = enrolled_page(client, order_id, "app")
    page = browser.new_page()
    page.set_content(html)
    qr = page.locator(".qr svg")
    box = qr.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    key = page.locator(".secret").inner_text().replace(" ", "")
    reference = page.locator(".staff").inner_text().split("Reference ")[1].strip()
    uri = pyotp.TOTP(key).provisioning_uri(name=reference, issuer_name=ISSUER)
    drawn = page.locator(".qr svg path.qrline").get_attribute("d")
    expected = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    assert drawn and f'd="{drawn}"' in expected  # the modules of the QR code of her key
    assert page.locator(".staff").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".staff").is_visible()
    assert page.locator(".qr svg").is_visible()
    # the key on the page is hers: a code from it proves a visit
    clock.advance(timedelta(hours=1))
    body = {"visited_at": clock().isoformat(), "met_with": ["p1"], "outcome": "person_safe"}
    post(client, f"/orders/{order_id}/visits", body | {"proof_code": pyotp.TOTP(key).at(clock())})
    rows = client.get(f"/orders/{order_id}/timeline", headers=SUPERVISOR).json()["items"]
    assert "proof: code proven" in rows[-1]["summary"]
    page.close()


def test_the_card_page_lays_out_every_code_to_cross_out(
    client: TestClient,
    clock: SimulatedClock,
    browser: Browser,  # noqa: F811
) -> None:
    order_id = issued(client, clock)
    page = browser.new_page()
    page.set_content(enrolled_page(client, order_id, "card"))
    codes = page.locator(".codes li")
    assert codes.count() == 40
    tops = [codes.nth(i).bounding_box()["y"] for i in range(8)]  # type: ignore[index]
    assert tops[0] == tops[1] == tops[2] == tops[3] < tops[4]  # four to a row
    first = codes.nth(0).evaluate("li => li.lastChild.textContent")
    page.emulate_media(media="print")
    assert codes.nth(39).is_visible() and not page.locator(".staff").is_visible()
    clock.advance(timedelta(hours=1))
    body = {"visited_at": clock().isoformat(), "met_with": ["p1"], "outcome": "person_safe"}
    post(client, f"/orders/{order_id}/visits", body | {"proof_code": first})
    rows = client.get(f"/orders/{order_id}/timeline", headers=SUPERVISOR).json()["items"]
    assert "proof: code proven" in rows[-1]["summary"]
    page.close()


def test_a_retried_enrolment_page_shows_no_codes(
    client: TestClient,
    clock: SimulatedClock,
    browser: Browser,  # noqa: F811
) -> None:
    order_id = issued(client, clock)
    retried = AS_A_PAGE | {"Idempotency-Key": "card-for-her"}
    body = {"person_id": "p1", "kind": "card"}
    client.post(f"/orders/{order_id}/presence-proofs", json=body, headers=retried)
    again = client.post(f"/orders/{order_id}/presence-proofs", json=body, headers=retried)
    page = browser.new_page()
    page.set_content(again.text)
    assert page.locator(".codes li").count() == 0
    assert "shown once" in page.locator(".card").inner_text()
    page.close()
