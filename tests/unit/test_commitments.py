"""Sensitive values committed to: hidden from the digest's input, yet each one checkable."""

from __future__ import annotations

import json
from uuid import UUID

from orders.commitments import (
    WITHHELD_KEY,
    commitment,
    committed,
    committed_state,
    disclosed,
    replaced,
    salts,
    sensitive_places,
    withheld,
)

ORDER = UUID(int=7)
KEY = bytes(range(32))
STATE = {
    "visit": {
        "_type_": "visit",
        "_data_": {"notes": "at her sister's", "outcome": "person_safe", "position": None},
    },
    "request": {
        "_data_": {
            "incident_narrative": "He struck her",
            "protected_persons": [{"_data_": {"name": "A", "locations": ["Shelter 9"]}}],
        }
    },
    "a/b~c": {"incident_narrative": "a key to escape"},
}


def form(state: object = STATE, version: int = 1) -> bytes:
    return committed_state(KEY, ORDER, version, json.dumps(state).encode())


def test_the_committed_form_holds_no_sensitive_value_and_every_other_one() -> None:
    text = form().decode()
    for secret in ("at her sister's", "He struck her", "Shelter 9", "a key to escape"):
        assert secret not in text
    content = json.loads(text)
    assert content["visit"]["_data_"]["outcome"] == "person_safe"
    assert content["visit"]["_data_"]["position"] is None  # nothing to hide: kept as is
    assert content["request"]["_data_"]["protected_persons"][0]["_data_"]["name"] == "A"
    assert sorted(place for place, _ in withheld(content)) == [
        "/a~1b~0c/incident_narrative",
        "/request/_data_/incident_narrative",
        "/request/_data_/protected_persons/0/_data_/locations",
        "/visit/_data_/notes",
    ]


def test_the_same_value_commits_differently_in_every_event_and_place() -> None:
    once, again = json.loads(form()), json.loads(form(version=2))
    assert once["visit"]["_data_"]["notes"] != again["visit"]["_data_"]["notes"]
    other = committed_state(bytes(32), ORDER, 1, json.dumps(STATE).encode())
    assert json.loads(other)["visit"] != once["visit"]  # keyed: a guess cannot be checked
    assert form() == form()  # and yet reproducible by the service


def test_each_disclosed_value_is_checked_against_its_commitment() -> None:
    salt = salts(KEY, ORDER, 1)
    shown = disclosed(json.dumps(STATE).encode(), salt)
    commitments = dict(withheld(json.loads(form())))
    assert set(shown) == set(commitments)
    for place, item in shown.items():
        assert commitment(salt(place), item["value"]) == commitments[place]
    assert (
        commitment(salt("/visit/_data_/notes"), "no one home") != commitments["/visit/_data_/notes"]
    )


def test_a_change_anywhere_changes_the_form_and_whitespace_does_not() -> None:
    changed = json.loads(json.dumps(STATE))
    changed["visit"]["_data_"]["notes"] = "at home"
    assert form(changed) != form()
    assert committed_state(KEY, ORDER, 1, json.dumps(STATE, indent=2).encode()) == form()


def test_a_state_that_is_not_json_is_hashed_as_it_stands() -> None:
    assert committed(b"\xff\xfe not json", salts(KEY, ORDER, 1)) == b"\xff\xfe not json"


def test_places_are_json_pointers() -> None:
    assert dict(sensitive_places(STATE))["/a~1b~0c/incident_narrative"] == "a key to escape"
    assert replaced({"a": [1, {"b": 2}]}, "/a/1/b", 3) == {"a": [1, {"b": 3}]}
    assert replaced({"a/b": 1}, "/a~1b", {WITHHELD_KEY: "x"}) == {"a/b": {WITHHELD_KEY: "x"}}


def test_a_sensitive_key_spelled_with_escapes_is_still_committed_to() -> None:
    """A state with no sensitive name in its bytes is not walked (most events): one whose
    key is written with a \\u escape still is, and its value withheld."""
    escaped = b'{"request": {"incident_\\u006earrative": "He struck her"}}'
    form_of = committed_state(KEY, ORDER, 1, escaped)
    assert b"He struck her" not in form_of and WITHHELD_KEY.encode() in form_of
    plain = b'{"outcome": "person_safe", "at": "2026-01-01"}'
    assert committed_state(KEY, ORDER, 1, plain) == b'{"at":"2026-01-01","outcome":"person_safe"}'
