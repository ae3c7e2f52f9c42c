"""The scopes sign-in asks for (plyr's permission set or its collections one by one, what
the user turned on) and the check of what the server granted, which reads scopes by
meaning: a server hands back its own spelling (an `include:` expanded, actions spelt out
or left out) and the check must neither miss a grant nor accept less than was asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from plyr.auth import signin
from plyr.auth.client import OAuthClient, missing_scopes, scopes_for
from tests.conftest import make_settings

MEMORY = "sqlite+aiosqlite:///:memory:"
# What the PDS grants for include:fm.plyr.authFullApp (its own spelling: sorted, no actions).
EXPANDED = (
    "repo?collection=fm.plyr.actor.profile&collection=fm.plyr.comment"
    "&collection=fm.plyr.like&collection=fm.plyr.list&collection=fm.plyr.track"
)


# --- scopes asked for -------------------------------------------------------------------


def test_scopes_with_the_permission_set(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, MEMORY, atproto_namespace="fm.plyr.dev")
    assert scopes_for(settings, scrobbling=False, permission_set=True).split() == [
        "atproto",
        "include:fm.plyr.dev.authFullApp",
        "blob:audio/*",
        "blob:image/*",
    ]
    everything = scopes_for(settings, scrobbling=True, sharing=True, permission_set=True)
    assert everything.split() == [
        "atproto",
        "include:fm.plyr.dev.authFullApp",
        "blob:audio/*",
        "blob:image/*",  # also what sharing's thumbnail needs: no scope twice
        "repo:fm.teal.alpha.feed.play",
        "repo:fm.teal.alpha.actor.status",
        "repo:app.bsky.feed.post?action=create",
    ]


def test_client_metadata_declares_both_forms(tmp_path: Path) -> None:
    """A server refuses (invalid_scope) any scope the client metadata does not declare."""
    client = OAuthClient(make_settings(tmp_path, MEMORY, public_url="https://plyr.example"))
    declared = client.metadata()["scope"].split()
    for permission_set in (True, False):
        for scrobbling in (True, False):
            for sharing in (True, False):
                asked = scopes_for(
                    client.settings,
                    scrobbling=scrobbling,
                    sharing=sharing,
                    permission_set=permission_set,
                ).split()
                assert set(asked) <= set(declared)
    assert len(declared) == len(set(declared))


@pytest.mark.parametrize(
    ("mode", "first_has_set", "count"), [("auto", True, 2), ("on", True, 1), ("off", False, 1)]
)
def test_scope_choices_follow_the_setting(
    tmp_path: Path, mode: str, first_has_set: bool, count: int
) -> None:
    settings = make_settings(tmp_path, MEMORY, oauth_permission_set=mode)
    choices = signin.scope_choices(settings, signin.Wants(sharing=True))
    assert len(choices) == count
    assert ("include:fm.plyr.authFullApp" in choices[0].split()) is first_has_set
    assert "repo:fm.plyr.track" in choices[-1].split() or mode == "on"
    assert all("repo:app.bsky.feed.post?action=create" in choice.split() for choice in choices)
    forced = signin.scope_choices(settings, signin.Wants(), permission_set=False)
    assert forced == [scopes_for(settings, scrobbling=False)]


def test_settings_reject_an_unknown_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="oauth_permission_set"):
        make_settings(tmp_path, MEMORY, oauth_permission_set="maybe")


# --- the granted-scope check ------------------------------------------------------------

BASE = "atproto include:fm.plyr.authFullApp blob:audio/* blob:image/*"


@pytest.mark.parametrize(
    ("requested", "granted", "missing"),
    [
        # the PDS expands the include into its own spelling of the set's repo permission
        (BASE, f"atproto {EXPANDED} blob:audio/* blob:image/*", []),
        # expanded one collection at a time, in another order, with the actions spelt out
        (
            BASE,
            "atproto blob:image/* blob:audio/* "
            + " ".join(
                f"repo:fm.plyr.{name}?action=create&action=update&action=delete"
                for name in ("track", "like", "comment", "list", "actor.profile")
            ),
            [],
        ),
        # an old copy of the set (no lists) is not the set plyr needs
        (
            BASE,
            "atproto repo?collection=fm.plyr.track&collection=fm.plyr.like"
            "&collection=fm.plyr.comment&collection=fm.plyr.actor.profile"
            " blob:audio/* blob:image/*",
            ["include:fm.plyr.authFullApp"],
        ),
        # create only is less than the set's create/update/delete
        (
            BASE,
            f"atproto {EXPANDED.replace('repo?', 'repo?action=create&')} blob:audio/* blob:image/*",
            ["include:fm.plyr.authFullApp"],
        ),
        # a server that echoes the include without expanding it grants none of it
        (BASE, BASE, ["include:fm.plyr.authFullApp"]),
        # blob wildcards cover narrower ones, not the other way round
        (BASE, f"atproto {EXPANDED} blob:*/*", []),
        (BASE, f"atproto {EXPANDED} blob:image/png blob:audio/*", ["blob:image/*"]),
        ("atproto blob:image/png", "atproto blob:image/*", []),
        # the broad legacy scope allows every repo write and blob
        (BASE, "atproto transition:generic", []),
        # a post that may be created is not one that may be edited
        (
            "atproto repo:app.bsky.feed.post?action=create",
            "atproto repo:app.bsky.feed.post",
            [],
        ),
        (
            "atproto repo:app.bsky.feed.post",
            "atproto repo:app.bsky.feed.post?action=create",
            ["repo:app.bsky.feed.post"],
        ),
        # a set plyr does not know is never granted, even echoed back; others by equality
        (
            "atproto include:com.example.set",
            "atproto include:com.example.set",
            ["include:com.example.set"],
        ),
        (
            "atproto include:com.example.set rpc:x.y.z?aud=*",
            "atproto",
            [
                "include:com.example.set",
                "rpc:x.y.z?aud=*",
            ],
        ),
        ("atproto", "transition:generic", ["atproto"]),
    ],
)
def test_granted_scope_check(
    tmp_path: Path, requested: str, granted: str, missing: list[str]
) -> None:
    settings = make_settings(tmp_path, MEMORY)
    assert missing_scopes(requested, granted, settings) == missing


def test_granted_scope_check_follows_the_namespace(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, MEMORY, atproto_namespace="fm.plyr.dev")
    dev_expanded = EXPANDED.replace("fm.plyr.", "fm.plyr.dev.")
    requested = "atproto include:fm.plyr.dev.authFullApp"
    assert missing_scopes(requested, f"atproto {dev_expanded}", settings) == []
    assert missing_scopes(requested, f"atproto {EXPANDED}", settings) == [
        "include:fm.plyr.dev.authFullApp"
    ]
