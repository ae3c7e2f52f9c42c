"""The methods plyr answers: each a `@method("name")` async function taking the `Call` and
returning its answer's payload (the children of `subsonic-response`, `answers.Node`s), or,
for the methods answering bytes (`stream`, `getCoverArt`…), a starlette `Response` sent as
it is (their errors are still payloads: they raise `SubsonicError`). A method module
registers by being imported (`plyr.subsonic.routes` imports them all).

`public` methods run without credentials (OpenSubsonic: `getOpenSubsonicExtensions` must);
every other one gets the signed-in `Listener` as `call.listener`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from plyr.runtime import Runtime
from plyr.subsonic.answers import Payload
from plyr.subsonic.auth import Listener
from plyr.subsonic.params import Params


@dataclass(frozen=True, slots=True)
class Call:
    runtime: Runtime
    params: Params
    caller: Listener | None
    request: Request | None = None  # for the byte answers: Range, validators, HEAD

    @property
    def listener(self) -> Listener:
        if self.caller is None:  # a public method asked for the caller: a bug, not input
            raise RuntimeError("this method is public: it has no listener")
        return self.caller

    @property
    def http(self) -> Request:
        if self.request is None:  # a byte answer run without its request: a bug, not input
            raise RuntimeError("this call has no HTTP request")
        return self.request


Handler = Callable[[Call], Awaitable[Payload | Response]]


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    handler: Handler
    public: bool


METHODS: dict[str, Method] = {}


def method(name: str, *, public: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in METHODS:
            raise RuntimeError(f"the subsonic method {name} is registered twice")
        METHODS[name] = Method(name, handler, public)
        return handler

    return register
