"""The long schemathesis run over plyr's live OpenAPI: the suite's fuzz test
(tests/test_api_fuzz.py) with many more cases per operation, and its figures.

It runs that test module under pytest, so the run is exactly the suite's (a real plyr on
SQLite and PostgreSQL, the local PDS, a developer token made in Chromium, the seeded
objects), only longer; each run appends a JSON line to a report file, printed here as a
table: operations, cases, server errors, non-conformances, time.

Usage: uv run python bench/fuzz_api.py [--examples 60] [--seed N] [--backends sqlite,postgresql]
PostgreSQL must answer at 127.0.0.1:5432 (PLYR_TEST_POSTGRES_URL overrides).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/test_api_fuzz.py::test_no_server_error_and_every_answer_as_documented"


def run(examples: int, seed: int | None, backends: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """Run the fuzz test; returns pytest's exit status and one record per (database, caller)."""
    with tempfile.TemporaryDirectory(prefix="plyr-fuzz-bench-") as folder:
        report = Path(folder) / "report.jsonl"
        env = {
            **os.environ,
            "PLYR_FUZZ_EXAMPLES": str(examples),
            "PLYR_FUZZ_REPORT": str(report),
            "PLYR_TEST_REQUIRE_POSTGRES": "1",
        }
        if seed is not None:
            env["PLYR_FUZZ_SEED"] = str(seed)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={folder}/pytest",
            "-k",
            " or ".join(backends),
            TEST,
        ]
        status = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        lines = report.read_text().splitlines() if report.exists() else []
    return status, [json.loads(line) for line in lines]


def print_table(records: list[dict[str, Any]], elapsed: float) -> None:
    columns = (
        "database",
        "caller",
        "operations",
        "cases",
        "server_errors",
        "non_conformances",
        "left_to_others",
    )
    print()
    print(" | ".join((*columns, "seconds")))
    for record in records:
        cells = [str(record[name]) for name in columns]
        print(" | ".join((*cells, f"{record['elapsed']:.1f}")))
    total = {
        name: sum(int(r[name]) for r in records)
        for name in ("cases", "server_errors", "non_conformances")
    }
    print(
        f"total: {total['cases']} cases, {total['server_errors']} server errors, "
        f"{total['non_conformances']} non-conformances; fuzzing "
        f"{sum(r['elapsed'] for r in records):.0f} s, whole run {elapsed:.0f} s"
    )
    for record in records:
        for finding in record["findings"]:
            print(
                f"\n{record['database']} / {record['caller']}: {finding['operation']} "
                f"[{finding['check']}] {finding['status']}: {finding['title']}\n"
                f"  {finding['reproduce']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60, help="cases per operation")
    parser.add_argument("--seed", type=int, default=None, help="default: the suite's seed")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    started = time.monotonic()
    status, records = run(args.examples, args.seed, args.backends.split(","))
    print_table(records, time.monotonic() - started)
    sys.exit(status)


if __name__ == "__main__":
    main()
