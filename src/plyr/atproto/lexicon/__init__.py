"""Lexicon documents and record validation.

plyr keeps the Lexicon (v1) documents of every record it writes in `plyr/lexicons/`
and checks each record against them before it reaches a PDS. `load_lexicons(namespace)`
reads the shipped documents and rewrites the base namespace `fm.plyr` to the configured
one (`Settings.atproto_namespace`, e.g. `fm.plyr.dev`), so development records never
mix with production ones.

Validation follows the Lexicon spec (atproto.com/specs/lexicon). The lexicon tests run
their cases (tests/support/lexicon_cases.py) through the atproto project's validators too
(`@atproto/lexicon` and `@atproto/lex-schema`, which the PDS runs) and name the reason
wherever one of them answers differently. Choices worth knowing:

* A record must carry `$type` equal to its collection. `validate_record` does not add
  it (it never changes the record); `build_record` returns a copy with `$type` set and
  validated, which is what callers that write records use.
* Values may be in JSON form (`{"$link": ...}`, `{"$bytes": ...}`) or IPLD form
  (`dagcbor.CidLink`, `bytes`), so a record straight out of DAG-CBOR validates too.
* A blob is `{"$type": "blob", "ref": <link>, "mimeType": ..., "size": ...}` with no
  other keys; `accept` (with `type/*` wildcards) and `maxSize` are enforced. The legacy
  `{"cid", "mimeType"}` form is refused: the PDS refuses to write it and no record in
  plyr's namespaces ever held one.
* String formats use `plyr.atproto.syntax`, which holds to the specs where the
  JavaScript validators are loose: datetimes need a timezone (`@atproto/lexicon` takes
  none), URIs are RFC 3986, so ASCII only (both take `café`), AT-URIs have no query or
  fragment, CIDs must decode as CIDv1 (CIDv0 `Qm...` is refused).
* Integers are Python `int`s in the signed 64-bit range; `bool` is not an integer and
  every float is refused, even `1.0` (the data model has no floats, and a PDS rejects
  them; JSON from a JavaScript writer can be normalised by `dagcbor.json_to_ipld`).
* Objects are open: properties a schema does not name are allowed and not checked.
* Open unions accept members of types they do not know (unchecked); every union member
  must carry `$type`.

Some rules do not fit a lexicon; they are plyr-side checks keyed by collection (a track
must have `audioUrl` or `audioBlob`).

Besides plyr's own records the package ships its permission set (`fm.plyr.authFullApp`,
checked when it loads: `permissions`) and the Bluesky post documents plyr writes when a
track is shared (`app.bsky.feed.post`, `app.bsky.embed.external`,
`app.bsky.richtext.facet`; trimmed to what plyr writes, see their descriptions).

The package holds one module per concept: `loading` (the shipped documents and
`load_lexicons`), `namespace` (rewriting `fm.plyr`), `registry` (`LexiconRegistry`),
`schema` (what a document may hold), `validation` (the checks, one per lexicon type),
`permissions` (permission sets), `publishing` (as `com.atproto.lexicon.schema` records)
and `errors`; it re-exports their public names.
"""

from __future__ import annotations

from plyr.atproto.lexicon.errors import (
    LexiconError,
    LexiconValidationError,
    UnknownLexiconError,
)
from plyr.atproto.lexicon.loading import bundled_documents, load_lexicons
from plyr.atproto.lexicon.namespace import BASE_NAMESPACE, rewrite_namespace
from plyr.atproto.lexicon.registry import LexiconRegistry
from plyr.atproto.lexicon.validation import grapheme_length, grapheme_prefix

__all__ = [
    "BASE_NAMESPACE",
    "LexiconError",
    "LexiconRegistry",
    "LexiconValidationError",
    "UnknownLexiconError",
    "bundled_documents",
    "grapheme_length",
    "grapheme_prefix",
    "load_lexicons",
    "rewrite_namespace",
]
