"""Parsing DID documents: what atproto needs from them, and what makes one unusable."""

from __future__ import annotations

import pytest

from plyr.atproto.identity import InvalidDidDocument, parse_did_document
from tests.support.identity import document


def test_document_parsing_accepts_both_service_id_forms() -> None:
    did = "did:plc:" + "c" * 24
    for service_id in ("#atproto_pds", f"{did}#atproto_pds"):
        doc = parse_did_document(
            did,
            document(
                did,
                ["Mixed.Case.org", "bad handle"],
                pds="https://pds.example/",
                service_id=service_id,
            ),
        )
        assert doc.pds_url == "https://pds.example"
        assert doc.handles == ("mixed.case.org",)
    doc = parse_did_document(
        did, document(did, [], service_id=f"{did}#atproto_pds"), allow_http_pds=True
    )
    assert doc.handle is None
    assert doc.pds_url == "http://localhost:2583"


def test_document_parsing_wants_https_outside_development() -> None:
    did = "did:plc:" + "c" * 24
    with pytest.raises(InvalidDidDocument, match="https"):
        parse_did_document(did, document(did, [], pds="http://pds.example"))
    with pytest.raises(InvalidDidDocument, match="credentials"):
        parse_did_document(did, document(did, [], pds="https://u:p@pds.example"))
    with pytest.raises(InvalidDidDocument, match="not a JSON object"):
        parse_did_document(did, ["not", "an", "object"])
