"""What went wrong with S3, in one line: botocore failures turned into storage errors.

The ones that mean "S3 cannot be used as configured" become `StorageUnavailable`, naming the
endpoint (never with a password) and the setting to look at; the rest `StorageError`.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from plyr.storage.base import StorageError, StorageUnavailable

_CREDENTIAL_HINT = "check PLYR_S3_ACCESS_KEY_ID and PLYR_S3_SECRET_ACCESS_KEY"


def display_endpoint(endpoint_url: str | None, region: str) -> str:
    """The endpoint as shown in messages: never with a password, even if one was pasted in."""
    if not endpoint_url:
        return f"AWS S3 (region {region})"
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")) or endpoint_url


def _connection_reason(exc: BaseException, connect_timeout: float) -> str:
    """Say in a few words why a connection failed, from the innermost error that knows."""
    if isinstance(exc, ConnectTimeoutError):
        return f"no answer within {connect_timeout:g} s"
    if isinstance(exc, ReadTimeoutError):
        return "the endpoint stopped answering (read timeout)"
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return "host name not found"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, TimeoutError):
            return f"no answer within {connect_timeout:g} s"
        if isinstance(current, OSError) and current.errno in (
            errno.ENETUNREACH,
            errno.EHOSTUNREACH,
        ):
            return "network unreachable"
        wrapped = getattr(current, "kwargs", {}).get("error")
        current = (
            wrapped if isinstance(wrapped, BaseException) else current.__cause__
        ) or current.__context__
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass(frozen=True, slots=True)
class ErrorTranslator:
    """Translates the failures of calls to one bucket at one endpoint."""

    shown_endpoint: str  # as `display_endpoint` gives it
    bucket: str
    connect_timeout: float

    @contextlib.contextmanager
    def translate(self, action: str, key: str | None = None) -> Iterator[None]:
        """Translate botocore failures into storage errors with one clear line."""
        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, action, key) from exc
        except (BotoConnectionError, HTTPClientError, IncompleteReadError) as exc:
            reason = _connection_reason(exc, self.connect_timeout)
            raise StorageUnavailable(
                f"cannot reach S3 endpoint {self.shown_endpoint}: {reason}; "
                "check PLYR_S3_ENDPOINT_URL"
            ) from exc
        except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as exc:
            raise StorageUnavailable(
                f"no usable S3 credentials for {self.shown_endpoint} ({type(exc).__name__}); "
                f"{_CREDENTIAL_HINT}"
            ) from exc

    def _client_error(self, exc: ClientError, action: str, key: str | None) -> StorageError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        where = f"S3 at {self.shown_endpoint}"
        if code == "InvalidAccessKeyId":
            return StorageUnavailable(
                f"{where} does not know the access key; check PLYR_S3_ACCESS_KEY_ID"
            )
        if code == "SignatureDoesNotMatch":
            return StorageUnavailable(
                f"{where} rejected the request signature (wrong secret key); "
                "check PLYR_S3_SECRET_ACCESS_KEY"
            )
        if code in {"ExpiredToken", "InvalidToken", "TokenRefreshRequired"}:
            return StorageUnavailable(
                f"{where} rejected the credentials ({code}); {_CREDENTIAL_HINT}"
            )
        if code == "RequestTimeTooSkewed":
            return StorageUnavailable(f"{where} says this machine's clock is wrong; fix the time")
        if code == "NoSuchBucket":
            return StorageUnavailable(
                f"bucket {self.bucket!r} does not exist at {self.shown_endpoint}; "
                "run `plyr check` to create it or set PLYR_S3_BUCKET"
            )
        if code == "InvalidBucketName":
            return StorageUnavailable(
                f"{self.bucket!r} is not a valid S3 bucket name; set PLYR_S3_BUCKET "
                "(3-63 lowercase letters, digits, dots and hyphens)"
            )
        if code in {"AccessDenied", "AllAccessDisabled", "403", "Forbidden"} or status == 403:
            return StorageUnavailable(
                f"{where} denied {action} in bucket {self.bucket!r}; "
                f"{_CREDENTIAL_HINT} and that the key may use this bucket"
            )
        if status >= 500 or code in {"SlowDown", "ServiceUnavailable", "InternalError"}:
            return StorageUnavailable(
                f"{where} failed to {action} ({code or status}); it may be overloaded, try again"
            )
        target = f" {key}" if key else ""
        message = str(error.get("Message", "")).strip()
        return StorageError(
            f"S3 {action}{target} failed: {code or status}" + (f": {message}" if message else "")
        )
