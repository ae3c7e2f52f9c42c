"""The one description of an answer and its two serialisations, without a server: the JSON
mapping (typed attributes, arrays for lists even of one, text as `value`, ISO datetimes),
text XML cannot carry dropped from both, and a lone string refused as a list."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from plyr.subsonic.answers import Node, envelope, to_json, to_xml
from tests.subsonic.schema import NS, checked_xml

GENRES = {
    "genres": Node(
        children={
            "genre": [
                Node({"songCount": 2, "albumCount": 1}, text="ambient\x01 & <drone>"),
            ]
        }
    )
}


def test_json_is_the_mapping_of_the_xml() -> None:
    answer = json.loads(to_json(envelope("ok"), GENRES))["subsonic-response"]
    assert answer["genres"] == {
        "genre": [{"songCount": 2, "albumCount": 1, "value": "ambient & <drone>"}]
    }
    root = checked_xml(to_xml(envelope("ok"), GENRES))
    genre = root.find(f"{{{NS}}}genres/{{{NS}}}genre")
    assert genre is not None
    assert genre.text == "ambient & <drone>"
    assert genre.attrib == {"songCount": "2", "albumCount": "1"}


def test_datetimes_are_utc_iso_8601_in_both() -> None:
    when = datetime(2026, 12, 6, 7, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    payload = {"license": Node({"valid": True, "licenseExpires": when, "email": None})}
    answer = json.loads(to_json(envelope("ok"), payload))["subsonic-response"]
    assert answer["license"] == {"valid": True, "licenseExpires": "2026-12-06T06:30:15.123Z"}
    root = checked_xml(to_xml(envelope("ok"), payload))
    license = root.find(f"{{{NS}}}license")
    assert license is not None
    assert license.attrib == {"valid": "true", "licenseExpires": "2026-12-06T06:30:15.123Z"}
    assert datetime.fromisoformat(license.attrib["licenseExpires"]) == when.replace(
        microsecond=123000
    ).astimezone(UTC)


def test_empty_lists_are_empty_arrays_and_no_elements() -> None:
    payload = {"musicFolders": Node(children={"musicFolder": []})}
    answer = json.loads(to_json(envelope("ok"), payload))["subsonic-response"]
    assert answer["musicFolders"] == {"musicFolder": []}
    root = checked_xml(to_xml(envelope("ok"), payload))
    folders = root.find(f"{{{NS}}}musicFolders")
    assert folders is not None
    assert len(folders) == 0


def test_a_lone_string_is_not_a_list() -> None:
    payload = {"user": Node({"username": "a"}, {"folder": "1"})}
    with pytest.raises(TypeError, match="folder"):
        to_xml(envelope("ok"), payload)
    with pytest.raises(TypeError, match="folder"):
        to_json(envelope("ok"), payload)
