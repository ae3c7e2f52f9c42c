"""Security headers on every response, as plain ASGI middleware.

- `Content-Security-Policy`: scripts only from plyr's own files (no inline script, no
  `eval`: htmx runs with `allowEval: false`), no plugins, forms and `<base>` kept to plyr.
  Styles may be inline (`'unsafe-inline'` for style only): the server renders the user's
  accent colour and bar widths into `style` attributes so pages look right without
  JavaScript, and Swagger UI styles itself inline; no script runs from a style.
  Images may come from any https origin (avatars and artwork live on users' PDSes); audio
  and images from the S3 or CDN origin that storage redirects to, when one is configured.
  `form-action` allows https: signing in (and granting scrobbling) posts a form that plyr
  answers with a redirect to the user's own PDS, wherever it is.
- `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for old browsers) everywhere but
  the embeddable player under `/embed/`, which any site may frame.
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: strict-origin-when-cross-origin`.
- `Strict-Transport-Security` in production, when the public URL is https.

The headers are the middleware's alone: a route's own values for these names are replaced,
so the policy is decided here, by path. Errors that escape every middleware (500s) get the
same headers from `security_headers` in the error handler.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plyr.config import Settings

# Pages other sites may put in an iframe.
FRAMABLE_PREFIXES = ("/embed/",)
HSTS = "max-age=31536000; includeSubDomains"
# A local PDS of the development network serves avatars and its sign-in page over http.
DEV_NETWORK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*")

Header = tuple[bytes, bytes]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def storage_origins(settings: Settings) -> list[str]:
    """Where media requests may be redirected to: the S3 public/CDN base URL, else the
    endpoint presigned URLs point at (and its virtual-hosted bucket names)."""
    if settings.storage_backend != "s3":
        return []  # local files are served by plyr itself
    if settings.s3_public_base_url:
        return [_origin(settings.s3_public_base_url)]
    if not settings.s3_endpoint_url:
        return ["https://*.amazonaws.com"]  # AWS itself, path or virtual-hosted style
    endpoint = urlsplit(settings.s3_endpoint_url)
    origins = [f"{endpoint.scheme}://{endpoint.netloc}"]
    if settings.s3_addressing_style != "path":
        origins.append(f"{endpoint.scheme}://*.{endpoint.netloc}")
    return origins


def content_security_policy(settings: Settings, *, framable: bool) -> str:
    storage = storage_origins(settings)
    dev = list(DEV_NETWORK_ORIGINS) if settings.atproto_dev_network else []
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:", *storage, *dev],
        "media-src": ["'self'", "blob:", *storage],
        "connect-src": ["'self'"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", "https:", *dev],
        "frame-ancestors": ["*"] if framable else ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _strict_transport(settings: Settings) -> bool:
    return settings.environment == "production" and settings.public_url.startswith("https://")


def security_headers(settings: Settings, path: str) -> dict[str, str]:
    """The headers for a response to `path` (for responses built outside the middleware)."""
    framable = path.startswith(FRAMABLE_PREFIXES)
    headers = {
        "content-security-policy": content_security_policy(settings, framable=framable),
        "x-content-type-options": "nosniff",
        "referrer-policy": "strict-origin-when-cross-origin",
    }
    if not framable:
        headers["x-frame-options"] = "DENY"
    if _strict_transport(settings):
        headers["strict-transport-security"] = HSTS
    return headers


def _encoded(headers: dict[str, str]) -> list[Header]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


# Every name either variant may set: all are removed from a response before ours go on.
_OURS = frozenset(
    {
        b"content-security-policy",
        b"x-content-type-options",
        b"referrer-policy",
        b"x-frame-options",
        b"strict-transport-security",
    }
)


class SecurityHeadersMiddleware:
    """Adds `security_headers` to every HTTP response (computed once per variant)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.framable = _encoded(security_headers(settings, FRAMABLE_PREFIXES[0]))
        self.other = _encoded(security_headers(settings, "/"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = self.framable if scope["path"].startswith(FRAMABLE_PREFIXES) else self.other

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _OURS]
                message["headers"] = [*kept, *ours]
            await send(message)

        await self.app(scope, receive, send_with_headers)
