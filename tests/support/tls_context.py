"""One default TLS context for the httpx clients of a test process.

httpx builds an `SSLContext` for every client it makes, reading a bundle of CA
certificates (certifi's, or SSL_CERT_FILE's) again each time: 20 ms of CPU per client.
Tests make a client per request or per user as a rule, thousands in a run (the Subsonic
package alone made 735: 16 s). With the default arguments (verify, no client certificate,
the environment trusted) every one of those contexts is the same for as long as
SSL_CERT_FILE and SSL_CERT_DIR stay as they are, so it is made once and shared, as a
context is meant to be; any other arguments get a context built as httpx builds it. The
run's servers speak plain HTTP on loopback: no test depends on a context of its own.

Imported by tests/conftest.py, before any client is made.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx._transports.default as transports
from httpx._types import CertTypes

_build = transports.create_ssl_context


@functools.cache
def _default_context(ca_file: str | None, ca_dir: str | None) -> ssl.SSLContext:
    return _build()  # reads SSL_CERT_FILE and SSL_CERT_DIR itself: the key's values


def create_ssl_context(
    verify: ssl.SSLContext | str | bool = True,
    cert: CertTypes | None = None,
    trust_env: bool = True,
) -> ssl.SSLContext:
    if verify is True and cert is None and trust_env:
        return _default_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return _build(verify=verify, cert=cert, trust_env=trust_env)


transports.create_ssl_context = create_ssl_context
