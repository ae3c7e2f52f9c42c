"""How a failure ends the `plyrfm` command: one line on stderr, `plyrfm: <message>`, and an
exit code a script can branch on. Never a traceback (PLYRFM_DEBUG=1 shows one). Usage errors
are typer's own (exit 2)."""

from __future__ import annotations

import os
import sys
import traceback
from enum import IntEnum


class ExitCode(IntEnum):
    """The documented exit codes (README, "command line")."""

    OK = 0
    FAILED = 1  # anything else, and server errors
    USAGE = 2
    AUTH = 3  # not signed in, or the token was refused
    NOT_FOUND = 4
    INVALID = 5  # bad input: not audio, too big, a bad field, a missing file
    UNREACHABLE = 6
    RATE_LIMITED = 7
    UPLOAD_FAILED = 8
    INTERRUPTED = 130


class CliError(Exception):
    """A failure the command itself finds (e.g. the file to upload does not exist)."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.code = code


def exit_code_of(error: BaseException) -> ExitCode:
    """The exit code for an error raised by the SDK or by a command."""
    if isinstance(error, CliError):
        return error.code
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    from plyrfm import errors  # only once something failed: keeps start-up lean

    table: list[tuple[type[BaseException], ExitCode]] = [
        (errors.NotSignedIn, ExitCode.AUTH),
        (errors.AuthenticationError, ExitCode.AUTH),
        (errors.NotFound, ExitCode.NOT_FOUND),
        (errors.InvalidRequest, ExitCode.INVALID),
        (errors.ServerUnreachable, ExitCode.UNREACHABLE),
        (errors.RateLimited, ExitCode.RATE_LIMITED),
        (errors.UploadFailed, ExitCode.UPLOAD_FAILED),
        (FileNotFoundError, ExitCode.INVALID),
        (IsADirectoryError, ExitCode.INVALID),
    ]
    for kind, code in table:
        if isinstance(error, kind):
            return code
    return ExitCode.FAILED


def message_of(error: BaseException) -> str:
    """One line a person can act on."""
    from plyrfm.errors import PlyrError, ServerError

    if isinstance(error, CliError):
        text = str(error)
    elif isinstance(error, PlyrError):
        text = str(error)
        if isinstance(error, ServerError) and error.request_id:
            text += f" (request id {error.request_id})"  # what the operator's logs are keyed by
    elif isinstance(error, KeyboardInterrupt):
        text = "interrupted"
    elif isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        text = f"{error.strerror.lower()}{where}"
    else:
        text = f"unexpected error ({type(error).__name__}): {error}"
        if not os.environ.get("PLYRFM_DEBUG"):
            text += " (PLYRFM_DEBUG=1 shows the traceback)"
    return " ".join(text.split())  # a message with newlines still fits on one line


def fail(error: BaseException) -> int:
    """Report ERROR on stderr; return the exit code to end with."""
    if os.environ.get("PLYRFM_DEBUG"):
        traceback.print_exception(error, file=sys.stderr)
    try:
        sys.stderr.write(f"plyrfm: {message_of(error)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed: the exit code still tells
        pass
    return int(exit_code_of(error))
