"""Sending one API request as an operation (see effects.py): refusing early without a
token, retrying what may be retried, turning error answers into typed errors and 2xx
answers into models. Pure logic: the transport does the I/O."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from plyrfm.effects import Attempt, HttpRequest, HttpResponse, Operation, Sleep, TransportFailure
from plyrfm.errors import (
    NotSignedIn,
    PlyrError,
    ServerError,
    ServerUnreachable,
    error_from_response,
)
from plyrfm.models import PlyrModel
from plyrfm.retry import RetryPolicy, parse_retry_after, retry_failure, retry_status
from plyrfm.routes import Route

M = TypeVar("M", bound=PlyrModel)
Params = Mapping[str, str | int | Sequence[str] | None]

SIGN_IN_HINT = "run `plyrfm login` or set PLYR_TOKEN"


@dataclass(frozen=True)
class Context:
    """What operations know about the client: where plyr is, whether there is a token,
    and the retry policy."""

    base_url: str
    signed_in: bool
    policy: RetryPolicy


def require_token(ctx: Context, what: str) -> None:
    if not ctx.signed_in:
        raise NotSignedIn(f"not signed in: {what} needs a developer token ({SIGN_IN_HINT})")


def _query(params: Params | None) -> tuple[tuple[str, str], ...]:
    """Query pairs, a sequence repeated as the same key, None left out."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, str | int):
            pairs.append((key, str(value)))
        else:
            pairs.extend((key, str(item)) for item in value)
    return tuple(pairs)


def request_for(
    ctx: Context,
    route: Route,
    *,
    path: Mapping[str, object] | None = None,
    params: Params | None = None,
    json_body: PlyrModel | None = None,
    body: Callable[[], Iterator[bytes]] | None = None,
    headers: Mapping[str, str] | None = None,
    stream: bool = False,
) -> HttpRequest:
    """The request of `route`; raises NotSignedIn (sending nothing) when it needs a token."""
    if route.auth == "required":
        require_token(ctx, f"{route.method} {route.path}")
    unknown = set(params or {}) - set(route.query)
    if unknown:  # every parameter is declared in ROUTES, where the drift test sees it
        raise TypeError(f"{route.name} takes no query parameter {sorted(unknown)}")
    if json_body is not None and json_body.__schema__ != route.body:
        raise TypeError(f"{route.name} takes {route.body}, not {json_body.__schema__}")
    return HttpRequest(
        method=route.method,
        path=route.url(**(path or {})),
        params=_query(params),
        json=json_body.model_dump(mode="json", exclude_none=True) if json_body else None,
        body=body,
        headers=tuple((headers or {}).items()),
        stream=stream or route.answer in ("bytes", "events"),
    )


def unreachable(ctx: Context, failure: TransportFailure) -> ServerUnreachable:
    return ServerUnreachable(f"plyr at {ctx.base_url} is not reachable ({failure.reason})")


def send(ctx: Context, request: HttpRequest) -> Operation[HttpResponse]:
    """Send with retries; returns a 2xx answer, raises a PlyrError otherwise. A streamed
    error answer arrives read (the transport reads error bodies whole)."""
    policy = ctx.policy
    retry = 0
    while True:
        result: HttpResponse | TransportFailure = yield Attempt(request)
        retry_after: float | None = None
        if isinstance(result, TransportFailure):
            may_retry = retry_failure(request.method, before_sending=result.before_sending)
            if not may_retry or retry >= policy.max_retries:
                raise unreachable(ctx, result)
        elif result.status < 300:
            return result
        elif result.status < 400:
            raise _redirected(ctx, request, result)
        else:
            retry_after = parse_retry_after(result.headers.get("retry-after"))
            if not retry_status(result.status) or retry >= policy.max_retries:
                raise _error(result, retry_after)
        yield Sleep(policy.delay(retry, retry_after))
        retry += 1


def _redirected(ctx: Context, request: HttpRequest, response: HttpResponse) -> PlyrError:
    """A redirect the transport did not follow (a write, see transport.follows)."""
    where = response.headers.get("location")
    to = f" to {where}" if where else ""
    return PlyrError(
        f"plyr at {ctx.base_url} redirects {request.method} {request.path}{to} "
        f"(HTTP {response.status}): use the address it moved to as the plyr URL",
        status=response.status,
        request_id=response.headers.get("x-request-id"),
    )


def _error(response: HttpResponse, retry_after: float | None) -> PlyrError:
    return error_from_response(
        response.status, response.headers, response.content, retry_after=retry_after
    )


def decode(response: HttpResponse, what: str) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise ServerError(f"server error: {what} answered something that is not JSON") from exc


def parse(model: type[M], data: Any, what: str) -> M:
    """A model from an answer; an answer that does not fit is the server's fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        problem = f"{where}: {first['msg']}"
        raise ServerError(
            f"server error: {what} answered an unexpected {model.__name__} ({problem})"
        ) from exc


def parse_list(model: type[M], data: Any, what: str) -> list[M]:
    try:
        return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise ServerError(f"server error: {what} answered an unexpected list") from exc


def _checked(route: Route, model: type[PlyrModel], *, many: bool) -> str:
    if route.response != model.__schema__ or route.many != many:
        raise TypeError(f"route {route.name} answers {route.response}, not {model.__schema__}")
    return f"{route.method} {route.path}"


def call(ctx: Context, route: Route, model: type[M], **request: Any) -> Operation[M]:
    """One JSON call answering one `model`."""
    what = _checked(route, model, many=False)
    response = yield from send(ctx, request_for(ctx, route, **request))
    return parse(model, decode(response, what), what)


def call_many(ctx: Context, route: Route, model: type[M], **request: Any) -> Operation[list[M]]:
    """One JSON call answering a list of `model`."""
    what = _checked(route, model, many=True)
    response = yield from send(ctx, request_for(ctx, route, **request))
    return parse_list(model, decode(response, what), what)


def call_maybe(ctx: Context, route: Route, model: type[M], **request: Any) -> Operation[M | None]:
    """One JSON call that may answer 204 No Content (→ None)."""
    what = _checked(route, model, many=False)
    response = yield from send(ctx, request_for(ctx, route, **request))
    if response.status == 204 or not response.content:
        return None
    return parse(model, decode(response, what), what)


def call_no_answer(ctx: Context, route: Route, **request: Any) -> Operation[None]:
    """One call whose answer body is not used (204, or a 202 with a note)."""
    yield from send(ctx, request_for(ctx, route, **request))
