"""The atproto data model: JSON form, IPLD form, DAG-CBOR bytes and CIDs.

A record travels in two shapes:

* JSON form, as XRPC calls and Jetstream carry it: links are `{"$link": "<cid>"}`,
  byte strings are `{"$bytes": "<base64>"}`, blobs are
  `{"$type": "blob", "ref": {"$link": ...}, "mimeType": ..., "size": ...}`.
* IPLD form, what DAG-CBOR encodes: links are `CidLink`, byte strings are `bytes`.

`json_to_ipld` converts and validates (it is where bad data is refused: floats, malformed
links, blobs or `$type`s), `ipld_to_json` converts back. `encode_record` gives the
canonical DAG-CBOR bytes and `record_cid` the CID a PDS computes for the record.

Encoding uses libipld. libipld represents a link and a byte string alike (both as
`bytes`) and decides by looking: bytes that parse as a CID are written as a link. So
whenever a value holds a byte string that looks like a CID (or a link libipld would not
recognise), the small strict codec (`strict`) encodes or decodes it instead; the
two agree byte for byte on everything else (the tests check it).

The package holds one module per concept: `cid` (CIDs and `CidLink`), `datamodel` (JSON
form <-> IPLD form), `codec` (DAG-CBOR through libipld) and `strict` (the small strict
codec); it re-exports their public names.
"""

from __future__ import annotations

from plyr.atproto.dagcbor.cid import CODEC_DAG_CBOR, CODEC_RAW, CidLink, cid_for_bytes, parse_cid
from plyr.atproto.dagcbor.codec import decode_record, encode_ipld, encode_record, record_cid
from plyr.atproto.dagcbor.datamodel import DataModelError, ipld_to_json, json_to_ipld
from plyr.atproto.dagcbor.strict import decode_pure, encode_pure

__all__ = [
    "CODEC_DAG_CBOR",
    "CODEC_RAW",
    "CidLink",
    "DataModelError",
    "cid_for_bytes",
    "decode_record",
    "encode_ipld",
    "encode_record",
    "ipld_to_json",
    "json_to_ipld",
    "parse_cid",
    "record_cid",
]

# The tests compare the strict codec with libipld under these names.
_encode_pure = encode_pure
_decode_pure = decode_pure
