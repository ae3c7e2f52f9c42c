"""Identity resolution: handle → DID → DID document → PDS, with the bidirectional check.

- A handle resolves through DNS (`_atproto.<handle>` TXT, `did=...`) and HTTPS
  (`https://<handle>/.well-known/atproto-did`), both at once; DNS wins when both answer.
- A DID resolves to its document: did:plc from the PLC directory, did:web from
  `https://<host>/.well-known/did.json`.
- A handle counts only when the DID document names it back in `alsoKnownAs`.

Every fetch goes through the network guard (`plyr.atproto.netguard`): user-controlled
names never reach private addresses, bodies are size-capped and every lookup is
time-limited. Answers are cached in memory for `identity_cache_seconds` (misses for a
short while); `invalidate` drops an entry when the network says it changed.

The development network (`atproto_dev_network`) is the one place where the rules bend,
and only in ways a production configuration cannot reach (settings refuse the flag in
production): loopback hosts are allowed, `.test` handles resolve through the local PDS,
and did:web may name `localhost` with a port, served over plain http.

The package holds one module per concept: `handle` (handle -> DID), `did` (DID ->
document), `document` (parsing a DID document), `cache`, `fetching` (the guarded GETs),
`errors`, and `resolver`, whose IdentityResolver ties them together; it re-exports their
public names.
"""

from __future__ import annotations

from plyr.atproto.identity.document import DidDocument, Identity, parse_did_document
from plyr.atproto.identity.errors import (
    DidNotFound,
    HandleMismatch,
    HandleNotFound,
    IdentityBlocked,
    IdentityError,
    IdentityUnavailable,
    InvalidDid,
    InvalidDidDocument,
    InvalidHandle,
)
from plyr.atproto.identity.resolver import IdentityResolver

__all__ = [
    "DidDocument",
    "DidNotFound",
    "HandleMismatch",
    "HandleNotFound",
    "Identity",
    "IdentityBlocked",
    "IdentityError",
    "IdentityResolver",
    "IdentityUnavailable",
    "InvalidDid",
    "InvalidDidDocument",
    "InvalidHandle",
    "parse_did_document",
]
