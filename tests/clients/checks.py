"""What the CLI tests check of every run that must fail: the documented exit code, one line
`plyrfm: …` on stderr, nothing on stdout, no traceback."""

from __future__ import annotations

from tests.support.plyrfm import PlyrfmRun


def one_error_line(run: PlyrfmRun, code: int) -> str:
    """The run's one error line (its exit code must be `code`)."""
    assert run.returncode == code, run
    assert "Traceback" not in run.stderr, run
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run
    assert lines[0].startswith("plyrfm: "), run
    assert run.stdout == "", run
    return lines[0]
