"""Answers: one description of a `subsonic-response`, written once per method, serialised
as XML (valid against the Subsonic 1.16.1 XSD plus OpenSubsonic's additions) or as JSON.

A method describes its answer with `Node`s: attributes (in the XSD's names), child
elements in the XSD's order, and text. The two serialisers follow the mapping every
Subsonic server and client shares:

- an attribute is an XML attribute and a JSON member (booleans and numbers keep their
  type in JSON; `true`/`false` and digits in XML; datetimes are ISO 8601 UTC in both);
- a child given as one `Node` is one element / a JSON object;
- a child given as a list is repeated elements / a JSON array, always an array, even of
  one or none (a list of plain values is elements with text, e.g. `<folder>1</folder>`);
- text is the element's content in XML and the member `value` in JSON;
- a child given as a `Value` is one element with text in XML and a plain JSON member
  (`biography`, `notes`: the schema's `xs:string` elements).

The envelope adds `status`, `version` and OpenSubsonic's `type`, `serverVersion` and
`openSubsonic` (attributes of the XML root too, as OpenSubsonic's own XML examples do: the
plain 1.16.1 XSD has no place for them, see docs/subsonic.md). `f=jsonp` is refused
(with a JSON error): browser clients read `f=json` across origins with CORS instead.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from fastapi.responses import Response

from plyr import __version__
from plyr.subsonic.errors import Code, SubsonicError

API_VERSION = "1.16.1"
NAMESPACE = "http://subsonic.org/restapi"
SERVER_TYPE = "plyr"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

Scalar = str | int | float | bool | datetime
Format = Literal["xml", "json"]

# Characters XML 1.0 cannot carry at all (not even escaped): dropped from text we send.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Node:
    """One element: `attrs` (None values are left out), `children` in schema order, `text`."""

    attrs: Mapping[str, Scalar | None] = field(default_factory=dict)
    children: Mapping[str, Child] = field(default_factory=dict)
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Value:
    """One element holding only text (XML) / a plain member (JSON)."""

    value: Scalar


Child = Node | Value | Sequence[Node] | Sequence[Scalar]
Payload = Mapping[str, Child]  # the children of `subsonic-response`


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return _NOT_XML.sub("", str(value))


def _json_scalar(value: Scalar) -> str | int | float | bool:
    return _text(value) if isinstance(value, datetime | str) else value


# --- XML ---------------------------------------------------------------------------------


def _items(name: str, child: Child) -> Sequence[Node | Scalar]:
    """A list child's items; a lone string is a mistake (it would spread into characters):
    one element with text is `Node(text=…)`."""
    if isinstance(child, str):
        raise TypeError(f"the child {name!r} is a string: give Node(text=...) or a list")
    assert not isinstance(child, Node | Value)
    return child


def _xml_children(parent: ET.Element, children: Mapping[str, Child]) -> None:
    for name, child in children.items():
        if isinstance(child, Node):
            _xml_node(parent, name, child)
            continue
        if isinstance(child, Value):
            ET.SubElement(parent, name).text = _text(child.value)
            continue
        for item in _items(name, child):
            if isinstance(item, Node):
                _xml_node(parent, name, item)
            else:
                ET.SubElement(parent, name).text = _text(item)


def _xml_node(parent: ET.Element, name: str, node: Node) -> None:
    element = ET.SubElement(parent, name, _xml_attrs(node.attrs))
    _xml_children(element, node.children)
    if node.text is not None:
        element.text = _text(node.text)


def _xml_attrs(attrs: Mapping[str, Scalar | None]) -> dict[str, str]:
    return {key: _text(value) for key, value in attrs.items() if value is not None}


def to_xml(envelope: Mapping[str, Scalar], payload: Payload) -> bytes:
    root = ET.Element("subsonic-response", {"xmlns": NAMESPACE, **_xml_attrs(envelope)})
    _xml_children(root, payload)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8")


# --- JSON --------------------------------------------------------------------------------


def _json_child(name: str, child: Child) -> object:
    if isinstance(child, Node):
        return _json_node(child)
    if isinstance(child, Value):
        return _json_scalar(child.value)
    items = _items(name, child)
    return [_json_node(item) if isinstance(item, Node) else _json_scalar(item) for item in items]


def _json_node(node: Node) -> dict[str, object]:
    out: dict[str, object] = {
        key: _json_scalar(value) for key, value in node.attrs.items() if value is not None
    }
    for name, child in node.children.items():
        out[name] = _json_child(name, child)
    if node.text is not None:
        out["value"] = _text(node.text)
    return out


def to_json(envelope: Mapping[str, Scalar], payload: Payload) -> bytes:
    body = _json_node(Node(envelope, payload))
    return json.dumps({"subsonic-response": body}, ensure_ascii=False).encode("utf-8")


# --- the envelope ------------------------------------------------------------------------


def envelope(status: Literal["ok", "failed"]) -> dict[str, Scalar]:
    return {
        "status": status,
        "version": API_VERSION,
        "type": SERVER_TYPE,
        "serverVersion": __version__,
        "openSubsonic": True,
    }


MEDIA_TYPES: dict[Format, str] = {
    "xml": "application/xml; charset=utf-8",
    "json": "application/json",
}
# Subsonic clients read the answers from other origins too (web players); credentials are
# parameters, never cookies, so no origin gains anything it did not already hold.
COMMON_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


def answer(fmt: Format, payload: Payload, *, status: int = 200) -> Response:
    body = (to_json if fmt == "json" else to_xml)(envelope("ok"), payload)
    return Response(body, status_code=status, media_type=MEDIA_TYPES[fmt], headers=COMMON_HEADERS)


def error_payload(error: SubsonicError) -> Payload:
    return {
        "error": Node(
            {"code": int(error.code), "message": error.message, "helpUrl": error.help_url}
        )
    }


def error_answer(fmt: Format, error: SubsonicError) -> Response:
    body = (to_json if fmt == "json" else to_xml)(envelope("failed"), error_payload(error))
    return Response(
        body,
        status_code=error.status,
        media_type=MEDIA_TYPES[fmt],
        headers={**COMMON_HEADERS, **error.headers},
    )


def parse_format(value: str | None) -> Format:
    """`f`: xml (the default) or json. jsonp and anything else raise, to be answered in the
    nearest format (JSON for jsonp, else XML) by the caller."""
    if value in (None, "", "xml"):
        return "xml"
    if value == "json":
        return "json"
    if value == "jsonp":
        raise SubsonicError(
            Code.GENERIC, "f=jsonp is not supported: use f=json (answers allow any origin)"
        )
    raise SubsonicError(Code.GENERIC, f"unknown format {value[:20]!r}: use f=xml or f=json")
