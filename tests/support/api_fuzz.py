"""Schemathesis over a running plyr's `/api/openapi.json`: every operation, as one caller,
checked for server errors and for answers the OpenAPI does not describe.

`fuzz_api` runs schemathesis's own engine (what `st run` runs: the examples, coverage,
fuzzing and stateful phases) with a fixed seed, and returns what it found as plain data
for a test to assert on or a bench script to print. It is synchronous (requests, threads):
call it in a thread when the server runs in the caller's event loop.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import hypothesis.configuration
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

DEFAULT_SEED = 20260105
# What every answer is checked for. Left out: `positive_data_acceptance` (the services are
# stricter than the schema on purpose: text bounds have slack, names must be non-blank,
# featured handles must resolve, so schema-valid input may rightly get a 422).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "use_after_free",
    "ensure_resource_availability",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
)
# Answers that are right although a check's defaults call them wrong, per operation.
OPERATION_CHECKS: list[dict[str, Any]] = [
    # oEmbed asks for 501 when a format other than json is requested.
    {
        "include-path": "/oembed",
        "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}},
    },
    # `/api/tracks/top` also matches `/api/tracks/{track_id}`, which has DELETE and PATCH:
    # those methods reach that route and answer 422 (not an id), not 405.
    {
        "include-path": ["/api/tracks/top", "/api/tracks/recently-liked"],
        "checks": {"unsupported_method": {"enabled": False}},
    },
    # Likewise `/flags/resolve` and `/flags/reopen` (POST) match `/flags/{flag_id}` (GET):
    # a GET there reaches that route (401/403/422), and its `Allow` names GET.
    {
        "include-path": [
            "/api/admin/moderation/flags/resolve",
            "/api/admin/moderation/flags/reopen",
        ],
        "checks": {
            "unsupported_method": {"enabled": False},
            "allow_header_conformance": {"enabled": False},
        },
    },
    # A list's cover (media, GET) shares its address with the list page's form that posts a
    # new one (POST, a browser session only; the API's own is POST /api/lists/{id}/cover):
    # `Allow` rightly names POST, which the OpenAPI, describing the API, leaves out.
    {
        "include-path": "/lists/{list_id}/cover",
        "checks": {"allow_header_conformance": {"enabled": False}},
    },
]


# Failures another piece of work is fixing: reported apart, not counted. Each is
# (operation, check, words of the failure's message, why); remove it once fixed.
LEFT_TO_OTHERS: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(frozen=True)
class Finding:
    """One kind of failure: an operation, the check it failed, the status it answered."""

    operation: str
    check: str
    status: int | None
    title: str
    message: str
    reproduce: str

    def describe(self) -> str:
        return (
            f"{self.operation} [{self.check}] {self.status}: {self.title}\n"
            f"    {self.message.strip()[:400]}\n    {self.reproduce[:600]}"
        )


@dataclass
class FuzzReport:
    caller: str
    operations: int = 0
    tested: set[str] = field(default_factory=set)  # operations that got at least one case
    cases: int = 0
    failing_cases: int = 0
    elapsed: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    left_to_others: list[tuple[Finding, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.check == "not_a_server_error"]

    @property
    def non_conformances(self) -> list[Finding]:
        return [f for f in self.findings if f.check != "not_a_server_error"]

    def summary(self) -> str:
        return (
            f"{self.caller}: {self.operations} operations, {self.cases} cases, "
            f"{len(self.server_errors)} server errors, {len(self.non_conformances)} "
            f"non-conformances ({self.failing_cases} failing cases), "
            f"{len(self.left_to_others)} left to others, {len(self.errors)} engine errors, "
            f"{self.elapsed:.1f} s"
        )

    def to_json(self, **extra: object) -> str:
        """One line for a machine (bench/fuzz_api.py reads these)."""
        return json.dumps(
            {
                **extra,
                "caller": self.caller,
                "operations": self.operations,
                "tested": len(self.tested),
                "cases": self.cases,
                "failing_cases": self.failing_cases,
                "server_errors": len(self.server_errors),
                "non_conformances": len(self.non_conformances),
                "left_to_others": len(self.left_to_others),
                "engine_errors": len(self.errors),
                "elapsed": round(self.elapsed, 2),
                "findings": [asdict(finding) for finding in self.findings],
            }
        )

    def details(self) -> str:
        lines = [self.summary()]
        lines += [finding.describe() for finding in self.findings]
        lines += [f"left to others ({why}): {f.describe()}" for f, why in self.left_to_others]
        lines += [f"engine error: {error}" for error in self.errors]
        return "\n".join(lines)


def _config(base_url: str, headers: dict[str, str], examples: int, seed: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "cache": {"enabled": False},  # no .schemathesis folder in the working tree
            "base-url": base_url,
            "headers": headers,
            "continue-on-failure": True,  # count every failing case, not the first per route
            "workers": 1,
            "request-timeout": 30,
            "generation": {
                "max-examples": examples,
                "database": "none",
                "deterministic": True,
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "operations": OPERATION_CHECKS,
        }
    )


def _finding(recorder: Any, case_id: str, check: Any) -> Finding:
    failure = check.failure_info.failure
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    return Finding(
        operation=failure.operation or recorder.label,
        check=check.name,
        status=response.status_code if response is not None else None,
        title=failure.title,
        message=failure.message,
        reproduce=check.failure_info.code_sample,
    )


def _left_to_others(finding: Finding) -> str | None:
    return next(
        (
            why
            for operation, check, words, why in LEFT_TO_OTHERS
            if (operation, check) == (finding.operation, finding.check) and words in finding.message
        ),
        None,
    )


def _record(report: FuzzReport, recorder: Any, seen: set[tuple[str, str, int | None, str]]) -> None:
    """Count a finished scenario's cases; keep one finding per kind of failure."""
    report.cases += len(recorder.interactions)
    report.tested |= {node.value.operation.label for node in recorder.cases.values()}
    for case_id, checks in recorder.checks.items():
        failed = [c for c in checks if c.status == Status.FAILURE and c.failure_info]
        findings = [_finding(recorder, case_id, check) for check in failed]
        elsewhere = [_left_to_others(finding) for finding in findings]
        report.failing_cases += any(why is None for why in elsewhere)
        for finding, why in zip(findings, elsewhere, strict=True):
            key = (finding.operation, finding.check, finding.status, finding.title)
            if key in seen:
                continue
            seen.add(key)
            if why is None:
                report.findings.append(finding)
            else:
                report.left_to_others.append((finding, why))


def fuzz_api(
    base_url: str,
    *,
    caller: str,
    headers: dict[str, str],
    examples: int,
    workdir: Path,
    seed: int = DEFAULT_SEED,
) -> FuzzReport:
    """Run every phase over every operation of `{base_url}/api/openapi.json`; `examples` is
    the most cases generated per operation in the fuzzing phase."""
    # Hypothesis keeps a cache folder: in the test's own temporary folder, not the tree.
    hypothesis.configuration.set_hypothesis_home_dir(workdir / ".hypothesis")
    config = _config(base_url, headers, examples, seed)
    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json", config=config)
    report = FuzzReport(caller=caller, operations=schema.statistic.operations.total)
    seen: set[tuple[str, str, int | None, str]] = set()
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(report, event.recorder, seen)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.format()}"[:1000])
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}"[:1000])
    report.elapsed = time.monotonic() - started
    return report
