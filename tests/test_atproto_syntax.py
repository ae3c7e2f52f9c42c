"""Identifier syntax and TIDs against the atproto interop test files, plus TID clocks."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from plyr.atproto import syntax
from plyr.atproto.syntax import InvalidSyntax
from plyr.atproto.tid import (
    MAX_CLOCK_ID,
    TidClock,
    int_to_tid,
    next_tid,
    parse_tid,
    tid_from_time,
    tid_to_int,
)

SYNTAX_DIR = Path(__file__).parent / "fixtures" / "interop" / "syntax"

Validator = tuple[Callable[[object], bool], Callable[[object], object]]

VALIDATORS: dict[str, Validator] = {
    "atidentifier": (syntax.is_valid_at_identifier, syntax.ensure_at_identifier),
    "aturi": (syntax.is_valid_at_uri, syntax.ensure_at_uri),
    "cid": (syntax.is_valid_cid, syntax.ensure_cid),
    "datetime": (syntax.is_valid_datetime, syntax.ensure_datetime),
    "did": (syntax.is_valid_did, syntax.ensure_did),
    "handle": (syntax.is_valid_handle, syntax.ensure_handle),
    "language": (syntax.is_valid_language, syntax.ensure_language),
    "nsid": (syntax.is_valid_nsid, syntax.ensure_nsid),
    "recordkey": (syntax.is_valid_record_key, syntax.ensure_record_key),
    "tid": (syntax.is_valid_tid, syntax.ensure_tid),
    "uri": (syntax.is_valid_uri, syntax.ensure_uri),
}


def _fixture_lines(path: Path) -> Iterator[tuple[int, str]]:
    # Split on "\n" only: whitespace at either end of a line is part of the test value,
    # and str.splitlines would also break on Unicode separators inside values.
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if line and not line.startswith("#"):
            yield number, line


def _case_id(path: Path, number: int, value: str) -> str:
    shown = value if len(value) <= 48 else f"{value[:40]}...({len(value)} chars)"
    return f"{path.stem}:{number}:{shown!r}"


def _cases(expect_valid: bool) -> list[Any]:
    cases = []
    for path in sorted(SYNTAX_DIR.glob("*.txt")):
        kind, _, rest = path.stem.partition("_")
        if rest.endswith("_valid") != expect_valid:
            continue
        for number, line in _fixture_lines(path):
            cases.append(pytest.param(kind, line, id=_case_id(path, number, line)))
    return cases


VALID_CASES = _cases(expect_valid=True)
INVALID_CASES = _cases(expect_valid=False)


def test_every_fixture_file_is_covered() -> None:
    kinds = {path.stem.partition("_")[0] for path in SYNTAX_DIR.glob("*.txt")}
    assert kinds == set(VALIDATORS)
    assert len(VALID_CASES) > 200
    assert len(INVALID_CASES) > 200


@pytest.mark.parametrize(("kind", "value"), VALID_CASES)
def test_interop_valid(kind: str, value: str) -> None:
    is_valid, ensure = VALIDATORS[kind]
    assert is_valid(value)
    ensure(value)


@pytest.mark.parametrize(("kind", "value"), INVALID_CASES)
def test_interop_invalid(kind: str, value: str) -> None:
    is_valid, ensure = VALIDATORS[kind]
    assert not is_valid(value)
    with pytest.raises(InvalidSyntax) as caught:
        ensure(value)
    assert caught.value.reason
    assert caught.value.value == value


def test_fixture_whitespace_survives_loading() -> None:
    lines = [line for _, line in _fixture_lines(SYNTAX_DIR / "handle_syntax_invalid.txt")]
    assert " john.test" in lines
    assert "john.test " in lines


# ---------------------------------------------------------------------------------------
# details beyond the interop files


def test_invalid_syntax_is_a_value_error_with_a_reason() -> None:
    with pytest.raises(ValueError, match=r"invalid handle 'john\.0': .*top-level domain"):
        syntax.ensure_handle("john.0")
    with pytest.raises(InvalidSyntax, match="expected a string"):
        syntax.ensure_did(42)
    assert not syntax.is_valid_nsid(None)


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(InvalidSyntax) as caught:
        syntax.ensure_record_key("o" * 600)
    assert len(str(caught.value)) < 200


def test_handles_normalise_to_lowercase() -> None:
    assert syntax.ensure_handle("XX.LCS.MIT.EDU") == "xx.lcs.mit.edu"
    assert syntax.ensure_at_identifier("Alice.Test") == "alice.test"
    assert syntax.ensure_at_identifier("did:plc:ABC") == "did:plc:ABC"


@pytest.mark.parametrize(
    "handle",
    [
        "laptop.local",
        "laptop.arpa",
        "LAPTOP.LOCAL",
        "x.internal",
        "x.invalid",
        "handle.invalid",
        "x.localhost",
        "expyuzz4wqqyqhjn.onion",
        "x.alt",
        "x.example",
    ],
)
def test_disallowed_tlds(handle: str) -> None:
    assert syntax.is_valid_handle(handle)
    assert syntax.is_disallowed_tld(handle)


@pytest.mark.parametrize("handle", ["alice.test", "john.bsky.social", "a.co", "local.example.com"])
def test_allowed_tlds(handle: str) -> None:
    assert not syntax.is_disallowed_tld(handle)


def test_did_parts_and_methods() -> None:
    did = syntax.parse_did("did:plc:7iza6de2dwap2sbkpav7c6c6")
    assert (did.method, did.identifier) == ("plc", "7iza6de2dwap2sbkpav7c6c6")
    assert str(did) == "did:plc:7iza6de2dwap2sbkpav7c6c6"
    assert syntax.is_valid_did_plc("did:plc:7iza6de2dwap2sbkpav7c6c6")
    for bad in ("did:plc:asdf123", "did:plc:7iza6de2dwap2sbkpav7c6c61", "did:web:example.com"):
        assert not syntax.is_valid_did_plc(bad)
    with pytest.raises(InvalidSyntax, match="24 characters"):
        syntax.ensure_did_plc("did:plc:7IZA6DE2DWAP2SBKPAV7C6C6")


def test_did_web_hosts() -> None:
    assert syntax.did_web_host("did:web:example.com") == "example.com"
    assert syntax.did_web_host("did:web:Example.COM") == "example.com"
    assert syntax.did_web_host("did:web:localhost%3A1234") == "localhost:1234"
    assert syntax.ensure_did_web("did:web:example.com") == "did:web:example.com"
    for bad in (
        "did:web:example.com:user:alice",  # paths are not allowed in atproto
        "did:web:example.com%3A8443",  # ports only on localhost
        "did:web:localhost%3Aabc",
        "did:web:example",
        "did:web:exa%20mple.com",
        "did:plc:7iza6de2dwap2sbkpav7c6c6",
    ):
        assert not syntax.is_valid_did_web(bad), bad
        with pytest.raises(InvalidSyntax):
            syntax.did_web_host(bad)


def test_nsid_parts() -> None:
    nsid = syntax.parse_nsid("fm.plyr.actor.profile")
    assert (nsid.authority, nsid.name) == ("fm.plyr.actor", "profile")
    assert nsid.domain == "actor.plyr.fm"
    assert str(nsid) == "fm.plyr.actor.profile"


def test_at_uri_parts() -> None:
    uri = syntax.parse_at_uri("at://did:plc:abc/fm.plyr.track/3jzfcijpj2z2a")
    assert (uri.authority, uri.collection, uri.rkey) == (
        "did:plc:abc",
        "fm.plyr.track",
        "3jzfcijpj2z2a",
    )
    assert uri.is_record
    assert str(uri) == "at://did:plc:abc/fm.plyr.track/3jzfcijpj2z2a"
    repo = syntax.parse_at_uri("at://Alice.Test")
    assert repo.authority == "alice.test"
    assert (repo.collection, repo.rkey, repo.is_record) == (None, None, False)
    assert syntax.ensure_at_uri("at://Alice.Test/fm.plyr.like") == "at://alice.test/fm.plyr.like"


def test_at_uri_constructor_validates() -> None:
    assert str(syntax.AtUri("did:plc:abc", "fm.plyr.like", "self")) == (
        "at://did:plc:abc/fm.plyr.like/self"
    )
    with pytest.raises(InvalidSyntax, match="needs a collection"):
        syntax.AtUri("did:plc:abc", None, "self")
    with pytest.raises(InvalidSyntax, match="collection"):
        syntax.AtUri("did:plc:abc", "not-an-nsid")
    with pytest.raises(InvalidSyntax, match="authority"):
        syntax.AtUri("DID:plc:abc")


def test_datetime_parse_and_format() -> None:
    parsed = syntax.parse_datetime("1985-04-12T23:20:50.123456789-07:00")
    assert parsed == datetime(1985, 4, 13, 6, 20, 50, 123456, tzinfo=UTC)
    assert syntax.parse_datetime("2024-02-29T00:00:00Z").tzinfo is UTC
    with pytest.raises(InvalidSyntax, match="range"):
        syntax.parse_datetime("0000-01-01T00:00:00.000Z")  # valid atproto, not Python
    assert not syntax.is_valid_datetime("2023-02-29T00:00:00Z")
    assert not syntax.is_valid_datetime("1985-04-12T23:20:50.123+24:00")
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert syntax.format_datetime(moment) == "2024-05-06T05:08:09.123Z"
    assert syntax.format_datetime(moment, microseconds=True) == "2024-05-06T05:08:09.123456Z"
    assert syntax.is_valid_datetime(syntax.format_datetime(moment))
    assert syntax.format_datetime(datetime(985, 1, 2, tzinfo=UTC)) == "0985-01-02T00:00:00.000Z"
    with pytest.raises(ValueError, match="aware"):
        syntax.format_datetime(datetime(2024, 1, 1))


# ---------------------------------------------------------------------------------------
# TIDs


def test_tid_integer_round_trip() -> None:
    assert int_to_tid(0) == "2222222222222"
    assert tid_to_int("2222222222222") == 0
    assert int_to_tid((1 << 63) - 1) == "bzzzzzzzzzzzz"  # top bit zero
    assert tid_to_int("jzzzzzzzzzzzz") == (1 << 64) - 1  # syntax allows any 64 bits
    for _, line in _fixture_lines(SYNTAX_DIR / "tid_syntax_valid.txt"):
        assert int_to_tid(tid_to_int(line)) == line
    with pytest.raises(ValueError, match="63-bit"):
        int_to_tid(1 << 63)
    with pytest.raises(InvalidSyntax):
        tid_to_int("zzzzzzzzzzzzz")


def test_tid_from_time_round_trip() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    tid = tid_from_time(moment, 17)
    assert syntax.is_valid_tid(tid)
    assert tid == tid_from_time(moment, 17)  # deterministic: an idempotent record key
    assert parse_tid(tid) == (moment, 17)
    later = tid_from_time(moment + timedelta(microseconds=1), 0)
    assert later > tid
    other_zone = moment.astimezone(timezone(timedelta(hours=-5)))
    assert tid_from_time(other_zone, 17) == tid


def test_tid_from_time_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="aware"):
        tid_from_time(datetime(2024, 1, 1), 0)
    with pytest.raises(ValueError, match="53 bits"):
        tid_from_time(datetime(1969, 12, 31, tzinfo=UTC), 0)
    with pytest.raises(ValueError, match="clock id"):
        tid_from_time(datetime(2024, 1, 1, tzinfo=UTC), MAX_CLOCK_ID + 1)


def test_tid_fixture_time_is_plausible() -> None:
    when, clock_id = parse_tid("3jzfcijpj2z2a")
    assert 2022 <= when.year <= 2024
    assert 0 <= clock_id <= MAX_CLOCK_ID


def test_tid_clock_is_strictly_increasing_in_a_tight_loop() -> None:
    clock = TidClock()
    tids = [clock.next_tid() for _ in range(100_000)]
    assert all(a < b for a, b in itertools.pairwise(tids))
    assert all(syntax.is_valid_tid(tid) for tid in tids)
    assert {parse_tid(tid)[1] for tid in tids} == {clock.clock_id}
    now = datetime.now(UTC)
    assert abs(parse_tid(tids[0])[0] - now) < timedelta(minutes=1)


def test_tid_clock_survives_the_wall_clock_going_backwards() -> None:
    readings = iter([1_000, 1_000, 999, 500, 2_000, 1_999, 2_000, 5_000])
    clock = TidClock(clock_id=5, now_micros=lambda: next(readings))
    tids = [clock.next_tid() for _ in range(8)]
    assert tids == sorted(tids)
    assert len(set(tids)) == 8
    micros = [
        (parse_tid(t)[0] - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        for t in tids
    ]
    assert micros == [1_000, 1_001, 1_002, 1_003, 2_000, 2_001, 2_002, 5_000]
    assert {parse_tid(t)[1] for t in tids} == {5}


def test_tid_clock_is_thread_safe() -> None:
    clock = TidClock(clock_id=1, now_micros=lambda: 42)  # a frozen clock: worst case
    results: list[list[str]] = [[] for _ in range(8)]

    def work(out: list[str]) -> None:
        out.extend(clock.next_tid() for _ in range(2_000))

    threads = [threading.Thread(target=work, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [tid for out in results for tid in out]
    assert len(set(everything)) == len(everything) == 16_000
    for out in results:
        assert out == sorted(out)


def test_tid_clock_ids() -> None:
    assert 0 <= TidClock().clock_id <= MAX_CLOCK_ID
    with pytest.raises(ValueError, match="clock id"):
        TidClock(clock_id=1024)
    assert syntax.is_valid_tid(next_tid())
    assert next_tid() < next_tid()
