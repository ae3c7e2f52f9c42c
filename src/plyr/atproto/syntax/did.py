"""DIDs: the generic syntax, and the two methods atproto uses (did:plc and did:web)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from plyr.atproto.syntax.errors import InvalidSyntax, not_a_string
from plyr.atproto.syntax.handle import handle_problem

__all__ = [
    "Did",
    "did_problem",
    "did_web_host",
    "ensure_did",
    "ensure_did_plc",
    "ensure_did_web",
    "is_valid_did",
    "is_valid_did_plc",
    "is_valid_did_web",
    "parse_did",
]

_DID_MAX = 2048
_DID_RE = re.compile(r"did:([a-z]+):([A-Za-z0-9._:%-]*[A-Za-z0-9._-])")
_DID_PLC_RE = re.compile(r"did:plc:[a-z2-7]{24}")


@dataclass(frozen=True, slots=True)
class Did:
    """A parsed DID: `did:<method>:<identifier>`."""

    method: str
    identifier: str

    def __str__(self) -> str:
        return f"did:{self.method}:{self.identifier}"


def did_problem(value: object) -> str | None:
    """Why `value` is not a DID (of any method), or None when it is one."""
    if not isinstance(value, str):
        return not_a_string(value)
    if len(value) > _DID_MAX:
        return f"longer than {_DID_MAX} characters"
    if not value.startswith("did:"):
        return "must start with lowercase 'did:'"
    if not value.isascii():
        return "only ASCII is allowed"
    parts = value.split(":", 2)
    if len(parts) < 3 or not parts[1]:
        return "expected did:<method>:<identifier>"
    if not re.fullmatch(r"[a-z]+", parts[1]):
        return "the method must be lowercase letters only"
    if not parts[2]:
        return "the identifier is empty"
    if not _DID_RE.fullmatch(value):
        if value.endswith((":", "%")):
            return "must not end with ':' or '%'"
        return "the identifier may only hold letters, digits and . _ : % -"
    return None


def is_valid_did(value: object) -> bool:
    return did_problem(value) is None


def ensure_did(value: object) -> str:
    problem = did_problem(value)
    if problem is not None:
        raise InvalidSyntax("did", value, problem)
    assert isinstance(value, str)
    return value


def parse_did(value: object) -> Did:
    did = ensure_did(value)
    _, method, identifier = did.split(":", 2)
    return Did(method, identifier)


def _did_plc_problem(value: object) -> str | None:
    problem = did_problem(value)
    if problem is not None:
        return problem
    assert isinstance(value, str)
    if not value.startswith("did:plc:"):
        return "not a did:plc"
    if not _DID_PLC_RE.fullmatch(value):
        return "a did:plc identifier is 24 characters of lowercase base32 (a-z, 2-7)"
    return None


def is_valid_did_plc(value: object) -> bool:
    return _did_plc_problem(value) is None


def ensure_did_plc(value: object) -> str:
    problem = _did_plc_problem(value)
    if problem is not None:
        raise InvalidSyntax("did:plc", value, problem)
    assert isinstance(value, str)
    return value


def _did_web_parts(value: object) -> tuple[str | None, str]:
    """(problem, host[:port]) of a did:web as atproto allows it: a hostname, no path."""
    problem = did_problem(value)
    if problem is not None:
        return problem, ""
    assert isinstance(value, str)
    if not value.startswith("did:web:"):
        return "not a did:web", ""
    identifier = value[len("did:web:") :]
    if ":" in identifier:
        return "atproto allows no path in a did:web (only a hostname)", ""
    host, sep, port = identifier.partition("%3A")
    if "%" in host or "%" in port:
        return "only a percent-encoded port separator (%3A) is allowed", ""
    if sep:
        if host.lower() != "localhost":
            return "a port is only allowed on localhost (for development)", ""
        if not port.isdigit() or not 0 < int(port) < 65536:
            return f"bad port {port!r}", ""
        return None, f"{host.lower()}:{port}"
    if host.lower() != "localhost":
        host_problem = handle_problem(host)
        if host_problem is not None:
            return f"bad hostname: {host_problem}", ""
    return None, host.lower()


def is_valid_did_web(value: object) -> bool:
    return _did_web_parts(value)[0] is None


def ensure_did_web(value: object) -> str:
    problem, _ = _did_web_parts(value)
    if problem is not None:
        raise InvalidSyntax("did:web", value, problem)
    assert isinstance(value, str)
    return value


def did_web_host(value: object) -> str:
    """The host (with `:port` for localhost) whose /.well-known/did.json holds the document."""
    problem, host = _did_web_parts(value)
    if problem is not None:
        raise InvalidSyntax("did:web", value, problem)
    return host
