"""The methods plyr answers: each a `@method("name")` async function taking the `Call` and
returning its answer's payload (the children of `subsonic-response`, `answers.Node`s).
A method module registers by being imported (`plyr.subsonic.routes` imports them all).

`public` methods run without credentials (OpenSubsonic: `getOpenSubsonicExtensions` must);
every other one gets the signed-in `Listener` as `call.listener`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from plyr.runtime import Runtime
from plyr.subsonic.answers import Payload
from plyr.subsonic.auth import Listener
from plyr.subsonic.params import Params


@dataclass(frozen=True, slots=True)
class Call:
    runtime: Runtime
    params: Params
    caller: Listener | None

    @property
    def listener(self) -> Listener:
        if self.caller is None:  # a public method asked for the caller: a bug, not input
            raise RuntimeError("this method is public: it has no listener")
        return self.caller


Handler = Callable[[Call], Awaitable[Payload]]


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
