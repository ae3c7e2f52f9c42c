"""Calls whose XML and JSON answers must say the same: each XML answer schema-checked
(`schema.py`) and mapped to JSON the way every Subsonic client reads it, then compared
with plyr's JSON answer for the same call."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import httpx

from tests.subsonic.schema import NS, error_code, json_call, xml_call

# Elements that are JSON arrays below the root (the root's own children are objects).
ARRAYS = {
    "index",
    "artist",
    "album",
    "song",
    "child",
    "genre",
    "genres",
    "artists",
    "albumArtists",
    "releaseTypes",
    "similarArtist",
}
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _typed(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def _as_json(element: ET.Element, depth: int) -> Any:
    if not len(element) and not element.attrib and depth > 1:
        return element.text or ""  # a text element (`biography`, a release type)
    out: dict[str, Any] = {key: _typed(value) for key, value in element.attrib.items()}
    if element.text and element.text.strip():
        out["value"] = element.text
    for item in element:
        name = item.tag.removeprefix(f"{{{NS}}}")
        value = _as_json(item, depth + 1)
        if name in ARRAYS and depth >= 1:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _json_with_arrays(answer: dict[str, Any], root: ET.Element) -> dict[str, Any]:
    """The JSON answer less the envelope, empty arrays dropped (XML has no empty lists)."""

    def drop_empty(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop_empty(v) for k, v in value.items() if v != []}
        if isinstance(value, list):
            return [drop_empty(v) for v in value]
        return value

    envelope = set(root.attrib)
    return drop_empty({k: v for k, v in answer.items() if k not in envelope})


async def both(http: httpx.AsyncClient, method: str, params: dict[str, str]) -> dict[str, Any]:
    """One call in XML (both schemas) and in JSON: the same answer; the JSON is returned."""
    _, root = await xml_call(http, method, params)
    _, answer = await json_call(http, method, params)
    assert answer["status"] == "ok", answer
    from_xml = {item.tag.removeprefix(f"{{{NS}}}"): _as_json(item, 1) for item in root}
    assert from_xml == _json_with_arrays(answer, root), method
    return answer


async def failure(http: httpx.AsyncClient, method: str, params: dict[str, str]) -> int | None:
    """The error code of a call, the same in XML (schema-checked) and JSON."""
    _, root = await xml_call(http, method, params)
    _, answer = await json_call(http, method, params)
    code = error_code(root)
    assert answer.get("error", {}).get("code") == code
    return code


async def call_text(http: httpx.AsyncClient, method: str, params: dict[str, str]) -> str:
    response, root = await xml_call(http, method, params)
    assert root.attrib["status"] == "ok", response.text
    return response.text
