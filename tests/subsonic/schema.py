"""Checking plyr's Subsonic answers: every XML answer against the schemas, raw calls.

An XML answer must be valid against `opensubsonic-1.16.1.xsd` (the official 1.16.1 schema
plus exactly what OpenSubsonic adds) and, with those additions taken out again, against the
official `subsonic-rest-api-1.16.1.xsd` alone, so an overlay mistake cannot hide a Subsonic
one. Answers of OpenSubsonic's own methods have no 1.16.1 form and get the first check only.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import xmlschema

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "subsonic"
OFFICIAL = xmlschema.XMLSchema(FIXTURES / "subsonic-rest-api-1.16.1.xsd")
WITH_OPENSUBSONIC = xmlschema.XMLSchema(FIXTURES / "opensubsonic-1.16.1.xsd")
NS = "http://subsonic.org/restapi"
OPENSUBSONIC_ATTRIBUTES = ("type", "serverVersion", "openSubsonic")
OPENSUBSONIC_ELEMENTS = {
    f"{{{NS}}}openSubsonicExtensions",
    f"{{{NS}}}tokenInfo",
    f"{{{NS}}}lyricsList",
}
CLIENT = {"v": "1.16.1", "c": "plyr-tests"}
XS = "{http://www.w3.org/2001/XMLSchema}"


def _overlay_additions() -> tuple[frozenset[str], frozenset[str]]:
    """The attributes and elements the overlay adds to types below the root (Child,
    AlbumID3…), read from its `xs:redefine`: what an answer loses before the official check.
    By name, wherever they appear below the root (none is an official name there)."""
    tree = ET.parse(FIXTURES / "opensubsonic-1.16.1.xsd")  # noqa: S314 - our own fixture
    attributes: set[str] = set()
    elements: set[str] = set()
    for redefined in tree.getroot().iter(f"{XS}redefine"):
        for kind in redefined.findall(f"{XS}complexType"):
            if kind.get("name") == "Response":
                continue
            attributes |= {a.attrib["name"] for a in kind.iter(f"{XS}attribute")}
            elements |= {e.attrib["name"] for e in kind.iter(f"{XS}element")}
    return frozenset(attributes), frozenset(elements)


ADDED_ATTRIBUTES, ADDED_ELEMENTS = _overlay_additions()
# Added to Child but official on other types (AlbumID3's): an album as a directory Child
# (getAlbumList) carries them, as getalbumlist.md shows. Taken off Child elements only.
ON_CHILD_ONLY = frozenset({"name", "songCount"})


def _without_additions(element: ET.Element, depth: int) -> None:
    is_child = "isDir" in element.attrib  # only Child (and its extensions) has isDir
    for name in ADDED_ATTRIBUTES:
        if is_child or name not in ON_CHILD_ONLY:
            element.attrib.pop(name, None)
    for child in list(element):
        if depth >= 1 and child.tag.removeprefix(f"{{{NS}}}") in ADDED_ELEMENTS:
            element.remove(child)
        else:
            _without_additions(child, depth + 1)


def checked_xml(body: bytes) -> ET.Element:
    """The answer's root element, once both schemas took it."""
    WITH_OPENSUBSONIC.validate(body)
    root = ET.fromstring(body)  # noqa: S314 - plyr's answer, already parsed by the schema
    assert root.tag == f"{{{NS}}}subsonic-response"
    plain = copy.deepcopy(root)
    for name in OPENSUBSONIC_ATTRIBUTES:
        assert name in plain.attrib, f"the OpenSubsonic attribute {name} is missing"
        del plain.attrib[name]
    for child in plain:  # the root's own attributes and elements are handled above
        _without_additions(child, 1)
    if not any(child.tag in OPENSUBSONIC_ELEMENTS for child in plain):
        OFFICIAL.validate(ET.tostring(plain))
    return root


def error_code(root: ET.Element) -> int | None:
    """The error code of a parsed XML answer; None when it succeeded."""
    error = root.find(f"{{{NS}}}error")
    if root.attrib["status"] == "ok":
        assert error is None
        return None
    assert root.attrib["status"] == "failed"
    assert error is not None
    return int(error.attrib["code"])


def child(root: ET.Element, name: str) -> ET.Element:
    found = root.find(f"{{{NS}}}{name}")
    assert found is not None, f"no <{name}> in the answer"
    return found


async def call(
    http: httpx.AsyncClient,
    method: str,
    params: dict[str, str] | None = None,
    *,
    post: bool = False,
    suffix: str = ".view",
) -> httpx.Response:
    """One raw call with the client's `v` and `c` (unless `params` overrides them)."""
    values = {**CLIENT, **(params or {})}
    values = {key: value for key, value in values.items() if value is not None}
    path = f"/rest/{method}{suffix}"
    if post:
        return await http.post(path, data=values)
    return await http.get(path, params=values)


async def xml_call(
    http: httpx.AsyncClient, method: str, params: dict[str, str] | None = None, **kw: Any
) -> tuple[httpx.Response, ET.Element]:
    response = await call(http, method, params, **kw)
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    return response, checked_xml(response.content)


async def json_call(
    http: httpx.AsyncClient, method: str, params: dict[str, str] | None = None, **kw: Any
) -> tuple[httpx.Response, dict[str, Any]]:
    response = await call(http, method, {**(params or {}), "f": "json"}, **kw)
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.content)
    assert list(body) == ["subsonic-response"]
    answer: dict[str, Any] = body["subsonic-response"]
    return response, answer
