"""`plyrfm login`, `logout` and `whoami`: the developer token the other commands use."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from plyrfm.cli import state
from plyrfm.cli.errors import CliError, ExitCode
from plyrfm.cli.output import text
from plyrfm.cli.state import JsonFlag


def login(
    ctx: typer.Context,
    token: Annotated[
        str | None,
        typer.Option(help="A developer token (plyr_…); asked for, hidden, when left out."),
    ] = None,
    url: Annotated[str | None, typer.Option(help="The plyr to sign in to.")] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Sign in with a developer token and keep it in the config file.

    Make the token on plyr's settings page. It is checked with plyr, then saved in
    ~/.config/plyrfm/config.json, readable by you alone. Piped in, it is read from stdin."""
    from plyrfm import Client
    from plyrfm.config import Config, save_config

    out = state.output(ctx, json_flag)
    options = state.globals_of(ctx)
    target = state.config(ctx).url if url is None else url
    token = token or options.token or _ask_token(target)
    with Client(target, token) as plyr:
        me = plyr.me()
    path = save_config(Config(url=target, token=token))
    if out.as_json:
        out.json({"did": me.did, "handle": me.handle, "url": target, "config": str(path)})
        return
    out.line(f"signed in as @{text(me.handle)} at {text(target)}")
    out.note(f"token saved in {text(path)}")


def _ask_token(url: str) -> str:
    """The token from a hidden prompt, or from stdin when piped (`… | plyrfm login`)."""
    if sys.stdin.isatty():
        typed = typer.prompt(
            f"developer token (make one at {url.rstrip('/')}/settings)", hide_input=True, err=True
        )
    else:
        typed = sys.stdin.readline()
    token = str(typed).strip()
    if not token:
        raise CliError("no token given", ExitCode.AUTH)
    return token


def logout(ctx: typer.Context, json_flag: JsonFlag = False) -> None:
    """Forget the token kept in the config file (the URL stays)."""
    from plyrfm.config import (
        DEFAULT_URL,
        TOKEN_ENV,
        Config,
        config_path,
        read_config_file,
        save_config,
    )

    out = state.output(ctx, json_flag)
    saved = read_config_file()
    signed_out = "token" in saved
    path = config_path()
    if signed_out:
        path = save_config(Config(url=saved.get("url", DEFAULT_URL), token=None))
    if out.as_json:
        out.json({"signed_out": signed_out, "config": str(path)})
    elif signed_out:
        out.line(f"signed out: the token is gone from {text(path)}")
    else:
        out.line("not signed in: no token in the config file")
    if os.environ.get(TOKEN_ENV):
        out.note(f"{TOKEN_ENV} is still set here, and is used until you unset it")


def whoami(ctx: typer.Context, json_flag: JsonFlag = False) -> None:
    """Who the token signs you in as, and at which plyr."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        me = plyr.me()
    if out.as_json:
        out.model(me)
        return
    name = f" ({text(me.display_name)})" if me.display_name else ""
    out.line(f"@{text(me.handle)}{name}")
    out.line(f"{text(me.did)} at {text(state.config(ctx).url)} (signed in with a {text(me.via)})")
