"""The global options (`plyrfm --url … --token … --json COMMAND`) and what commands make of
them: the SDK client and the output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from plyrfm.cli.output import Output

if TYPE_CHECKING:
    from plyrfm import Client
    from plyrfm.config import Config

# Commands that print something also take `--json` after their name, where scripts put it.
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON on stdout (and nothing else there).")
]


@dataclass(frozen=True)
class Globals:
    url: str | None = None
    token: str | None = None
    json: bool = False


def globals_of(ctx: typer.Context) -> Globals:
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, Globals) else Globals()


def output(ctx: typer.Context, json_flag: bool = False) -> Output:
    return Output(as_json=json_flag or globals_of(ctx).json)


def config(ctx: typer.Context) -> Config:
    """Where to talk to and with which token: --url/--token, else PLYR_URL/PLYR_TOKEN, else
    the config file `plyrfm login` wrote, else plyr's local default."""
    from plyrfm.config import load_config

    options = globals_of(ctx)
    return load_config(url=options.url, token=options.token)


def site(ctx: typer.Context) -> str:
    """The base URL of the plyr the command talks to: its pages are there (plyrfm.pages)."""
    return config(ctx).url


def client(ctx: typer.Context) -> Client:
    from plyrfm import Client

    settings = config(ctx)
    return Client(settings.url, settings.token)
