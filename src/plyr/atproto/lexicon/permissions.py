"""Permission sets (`"type": "permission-set"`): what a document may grant, checked at load.

A permission set bundles OAuth permissions under one NSID; a client asks for
`include:<nsid>` and the user's PDS resolves the published document and expands it into
the `repo:`/`rpc:` scopes it lists (atproto.com/specs/permission). The reference PDS
(@atproto/oauth-scopes `IncludeScope`) keeps only `repo` and `rpc` permissions and only
those naming NSIDs under the set's own group (`fm.plyr.authFullApp` may name
`fm.plyr.track`, never `fm.teal.…` or `*`); anything else it drops without a word. A set
that relies on a dropped permission would sign people in without it, so such a document
fails here, when it loads.
"""

from __future__ import annotations

from typing import Any, Final

from plyr.atproto import syntax
from plyr.atproto.lexicon.errors import LexiconError

__all__ = [
    "REPO_ACTIONS",
    "check_permission_set",
]

REPO_ACTIONS: Final = ("create", "update", "delete")
_TEXT_FIELDS: Final = ("title", "detail", "description")


def _group(nsid: str) -> str:
    """`fm.plyr.authFullApp` → `fm.plyr.`: what every NSID the set names must start with."""
    return nsid.rsplit(".", 1)[0] + "."


def _nsids(permission: dict[str, Any], field: str, doc_id: str, where: str) -> None:
    values = permission.get(field)
    if not isinstance(values, list) or not values:
        raise LexiconError(f"{where}: a {permission['resource']} permission needs {field} names")
    group = _group(doc_id)
    for value in values:
        if not isinstance(value, str) or not syntax.is_valid_nsid(value):
            raise LexiconError(f"{where}: {field} {value!r} is not an NSID")
        if not value.startswith(group):
            raise LexiconError(
                f"{where}: {value} is outside {group}* (a PDS drops what a set names elsewhere)"
            )


def check_permission_set(definition: dict[str, Any], doc_id: str, where: str) -> None:
    """Raise LexiconError unless `definition` is a permission set a PDS expands in full."""
    for field in _TEXT_FIELDS:
        if field in definition and not isinstance(definition[field], str):
            raise LexiconError(f"{where}: {field} must be a string")
    permissions = definition.get("permissions")
    if not isinstance(permissions, list) or not permissions:
        raise LexiconError(f"{where}: a permission set needs a non-empty permissions list")
    for index, permission in enumerate(permissions):
        at = f"{where}.permissions[{index}]"
        if not isinstance(permission, dict) or permission.get("type") != "permission":
            raise LexiconError(f'{at}: each entry is an object of type "permission"')
        resource = permission.get("resource")
        if resource == "repo":
            _nsids(permission, "collection", doc_id, at)
            actions = permission.get("action", list(REPO_ACTIONS))
            if (
                not isinstance(actions, list)
                or not actions
                or any(action not in REPO_ACTIONS for action in actions)
            ):
                raise LexiconError(f"{at}: action must list some of {', '.join(REPO_ACTIONS)}")
        elif resource == "rpc":
            _nsids(permission, "lxm", doc_id, at)
            if "aud" in permission and not isinstance(permission["aud"], str):
                raise LexiconError(f"{at}: aud must be a string")
            if "inheritAud" in permission and not isinstance(permission["inheritAud"], bool):
                raise LexiconError(f"{at}: inheritAud must be a boolean")
        else:
            raise LexiconError(
                f"{at}: a permission set holds repo and rpc permissions only, not {resource!r} "
                "(a PDS drops the others; ask for blob: scopes beside the include)"
            )
