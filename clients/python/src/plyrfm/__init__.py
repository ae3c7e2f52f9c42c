"""plyrfm: the Python SDK for plyr, music on the AT Protocol.

    from plyrfm import Client

    with Client() as plyr:               # PLYR_URL / PLYR_TOKEN, or `plyrfm login`'s config
        track = plyr.upload("take.wav", title="take one", on_progress=print)
        for mine in plyr.my_tracks():
            print(mine.id, mine.title, mine.publish_state)

`AsyncClient` has the same methods as coroutines. Every failure is a
`plyrfm.errors.PlyrError`; the models are in `plyrfm.models`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from plyrfm.version import __version__

if TYPE_CHECKING:
    from plyrfm import errors, models
    from plyrfm.async_client import AsyncClient
    from plyrfm.config import Config, load_config, save_config
    from plyrfm.errors import PlyrError
    from plyrfm.sync_client import Client
    from plyrfm.transport import Timeout

# Imported on first use, not with the package: pydantic models and httpx cost most of a
# second, and `plyrfm --help` or shell completion should not pay for them.
_LAZY = {
    "AsyncClient": "plyrfm.async_client",
    "Client": "plyrfm.sync_client",
    "Config": "plyrfm.config",
    "load_config": "plyrfm.config",
    "save_config": "plyrfm.config",
    "PlyrError": "plyrfm.errors",
    "Timeout": "plyrfm.transport",
}
_SUBMODULES = {"errors", "models"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"plyrfm.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'plyrfm' has no attribute {name!r}")


__all__ = [
    "AsyncClient",
    "Client",
    "Config",
    "PlyrError",
    "Timeout",
    "__version__",
    "errors",
    "load_config",
    "models",
    "save_config",
]
