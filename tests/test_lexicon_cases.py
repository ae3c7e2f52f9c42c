"""The cases of tests/support/lexicon_cases.py: plyr's verdicts, and the references' too.

The references are the atproto project's validators, run by
tests/support/lexicon_reference.mjs: the older `@atproto/lexicon` and the
`@atproto/lex-document` / `@atproto/lex-schema` stack a PDS now validates with.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from plyr.atproto.lexicon import (
    LexiconRegistry,
    LexiconValidationError,
    bundled_documents,
    load_lexicons,
)
from tests.support.lexicon_cases import BOTH, CASES, LEX_SCHEMA, LEXICON, Case
from tests.support.lexicon_records import KITCHEN_DOC

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "atproto-net" / "node_modules"
REFERENCE_SCRIPT = ROOT / "tests" / "support" / "lexicon_reference.mjs"
REFERENCE_PACKAGES = (
    "@atproto/lexicon",
    "@atproto/lex-document",
    "@atproto/lex-json",
    "@atproto/syntax",
)


@pytest.fixture(scope="module")
def registry() -> LexiconRegistry:
    return LexiconRegistry([*load_lexicons().documents(), KITCHEN_DOC])


def run_case(registry: LexiconRegistry, case: Case) -> LexiconValidationError | None:
    try:
        if case.rkey is not None:
            registry.check_record_key(case.nsid, case.rkey)
        else:
            registry.validate_record(case.nsid, case.record)
    except LexiconValidationError as exc:
        return exc
    return None


def test_cases_are_many_and_unique() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)
    covered = {case.nsid for case in CASES}
    assert covered >= set(load_lexicons().collections)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_case_verdict(registry: LexiconRegistry, case: Case) -> None:
    error = run_case(registry, case)
    if case.valid:
        assert error is None, f"expected valid, got: {error}"
    else:
        assert error is not None, "expected invalid, but it validated"
        assert error.path == case.path, str(error)
        assert error.collection == case.nsid


# ---------------------------------------------------------------------------------------
# the reference validators


def _reference_problem() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    for package in REFERENCE_PACKAGES:
        if not (NODE_MODULES / package / "package.json").exists():
            return f"{package} is not installed in {NODE_MODULES} (npm ci in atproto-net)"
    return None


def _payload(case: Case) -> dict[str, Any]:
    if case.rkey is not None:
        return {"nsid": case.nsid, "rkey": case.rkey}
    return {"nsid": case.nsid, "record": case.record}


@pytest.fixture(scope="module")
def reference(registry: LexiconRegistry) -> dict[str, Any]:
    problem = _reference_problem()
    if problem is not None:
        pytest.skip(f"reference validators unavailable: {problem}")
    payload = {"docs": registry.documents(), "cases": [_payload(case) for case in CASES]}
    completed = subprocess.run(
        ["node", str(REFERENCE_SCRIPT), str(NODE_MODULES)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    answer: dict[str, Any] = json.loads(completed.stdout)
    assert len(answer["results"]) == len(CASES)
    return answer


def test_reference_accepts_the_documents(reference: dict[str, Any]) -> None:
    problems = [doc for doc in reference["documents"] if doc[LEXICON] or doc[LEX_SCHEMA]]
    assert problems == []
    assert {doc["id"] for doc in reference["documents"]} >= {d["id"] for d in bundled_documents()}


def test_reference_flags_a_broken_document() -> None:
    """The document check in the reference script is not a rubber stamp."""
    problem = _reference_problem()
    if problem is not None:
        pytest.skip(f"reference validators unavailable: {problem}")
    broken = copy.deepcopy(KITCHEN_DOC)
    broken["defs"]["a"]["properties"]["x"]["type"] = "int"
    completed = subprocess.run(
        ["node", str(REFERENCE_SCRIPT), str(NODE_MODULES)],
        input=json.dumps({"docs": [broken], "cases": []}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [verdict] = json.loads(completed.stdout)["documents"]
    assert verdict[LEXICON]
    assert verdict[LEX_SCHEMA]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[case.id for case in CASES])
def test_reference_validators_agree(reference: dict[str, Any], index: int) -> None:
    case = CASES[index]
    result = reference["results"][index]
    for validator in BOTH:
        answer = result[validator]
        if answer is None:  # @atproto/lexicon has no record key check
            assert case.rkey is not None
            assert validator == LEXICON
            continue
        expected = case.valid != (validator in case.differs)
        note = (
            f" (documented difference: {case.differs[validator]})"
            if validator in case.differs
            else ""
        )
        assert answer["valid"] == expected, (
            f"{validator} says {'valid' if answer['valid'] else 'invalid'}"
            f" ({answer['error']}); expected {'valid' if expected else 'invalid'}{note}"
        )
    if not case.valid and case.record is not None and LEX_SCHEMA not in case.differs:
        # Both found a problem: in the same place, or plyr's is inside the reference's.
        where = _lex_schema_path(result[LEX_SCHEMA]["error"])
        assert case.path is not None
        assert where is not None, result[LEX_SCHEMA]["error"]
        assert case.path == where or case.path.startswith((f"{where}.", f"{where}[")), (
            f"plyr: {case.path!r}, lex-schema: {result[LEX_SCHEMA]['error']}"
        )


def _lex_schema_path(error: str) -> str | None:
    """`features[2].did` out of lex-schema's `... at $.features[2].did`.

    lex-schema reports a missing key at its parent (`Missing required key "did" at
    $.features[0]`); plyr names the key itself, so the key is appended here.
    """
    match = re.search(r" at \$(\S*)$", error)
    if match is None:
        return None
    where = match[1].removeprefix(".")
    missing = re.match(r'Missing required key "([^"]+)"', error)
    if missing:
        where = f"{where}.{missing[1]}" if where else missing[1]
    return where


def test_documented_differences_are_few() -> None:
    differing = [case.id for case in CASES if case.differs]
    assert len(differing) <= 12, differing
