"""The `plyrfm` command: its global options, which commands it has, and `run`.

A new command is a function in the module of its group, registered below with
`app.command()`; a new group (`plyrfm <group> <command>`) is a `typer.Typer` of its own,
added with `app.add_typer`. `plyrfm --help` lists them in this order.
"""

from __future__ import annotations

from typing import Annotated

import typer

from plyrfm.cli import account, likes, tracks, transfers, upload
from plyrfm.cli.playlists import playlist_app
from plyrfm.cli.state import Globals
from plyrfm.mcp.command import mcp  # the MCP owner's module: `plyrfm mcp`

app = typer.Typer(
    name="plyrfm",
    help="plyr from the command line: upload, find, download and like music on the AT Protocol.",
    no_args_is_help=True,
    epilog="Exit codes: 0 done, 1 failed, 2 usage, 3 not signed in or token refused, "
    "4 not found, 5 invalid input, 6 plyr unreachable, 7 rate limited, 8 upload failed, "
    "130 interrupted.",
    rich_markup_mode="markdown",  # docstrings' paragraphs reflow to the terminal's width
    pretty_exceptions_enable=False,  # errors are one line (cli/errors.py), not a rich traceback
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(show: bool) -> None:
    if show:
        from plyrfm.version import __version__

        typer.echo(f"plyrfm {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            help="The plyr to talk to (else $PLYR_URL, else the config file, else local)."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="A developer token (else $PLYR_TOKEN, else the config file)."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON on stdout, nothing else there.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = Globals(url=url, token=token, json=json_output)


app.command(rich_help_panel="account")(account.login)
app.command(rich_help_panel="account")(account.logout)
app.command(rich_help_panel="account")(account.whoami)
app.command(rich_help_panel="tracks")(upload.upload)
app.command(rich_help_panel="tracks")(tracks.tracks)
app.command(rich_help_panel="tracks")(tracks.track)
app.command(rich_help_panel="tracks")(tracks.search)
app.command(rich_help_panel="tracks")(transfers.download)
app.command(rich_help_panel="likes and playlists")(likes.like)
app.command(rich_help_panel="likes and playlists")(likes.unlike)
app.command(rich_help_panel="likes and playlists")(likes.likes)
app.add_typer(playlist_app, name="playlist", rich_help_panel="likes and playlists")
app.command(rich_help_panel="account")(transfers.export)
app.command(
    "mcp",
    short_help="Serve plyr to AI clients (MCP, stdio or --http).",
    rich_help_panel="AI clients",
)(mcp)


def run() -> None:
    """Run the app in typer's standalone mode: it handles usage errors (exit 2), --help,
    completion and Ctrl-C (exit 130) and exits; any other error propagates to `main`."""
    app(prog_name="plyrfm")
