"""`plyr devnet`: the local ATProto network (PLC + PDS, demo accounts), alone or under serve."""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from plyr.cli.common import die, load_settings
from plyr.config import Settings

if TYPE_CHECKING:
    from plyr.atproto.devnet import Network


def start_devnet(settings: Settings) -> Network:
    from plyr.atproto.devnet import DevnetError, start_network

    if settings.environment == "production":
        die("the development network cannot run with PLYR_ENVIRONMENT=production")
    typer.echo("starting the local ATProto network (PLC + PDS)…", err=True)
    try:
        network = start_network(
            settings.data_dir / "devnet",
            plc_port=settings.devnet_plc_port,
            pds_port=settings.devnet_pds_port,
        )
    except DevnetError as exc:
        die(str(exc))
    _print_devnet(network)
    return network


def devnet_settings(network: Network) -> dict[str, Any]:
    return {
        "plc_url": network.plc_url,
        "atproto_dev_network": True,
        "atproto_dev_pds_url": network.pds_url,
        "ingest_url": network.pds_url,
    }


def devnet_labeler_settings(settings: Settings, network: Network) -> dict[str, Any]:
    """Make (or reuse) plyr's labeler on the local network; the settings that name it."""
    import asyncio

    from plyr.moderation.devnet_labeler import ensure_devnet_labeler

    try:
        state = asyncio.run(
            ensure_devnet_labeler(settings, pds_url=network.pds_url, plc_url=network.plc_url)
        )
    except Exception as exc:  # the network is up but refused: say why, in one line
        die(f"cannot set up the labeler on the local network: {exc}")
    typer.echo(f"  labeler        {state.handle:14} {state.did}", err=True)
    return {"labeler_did": state.did}


def _print_devnet(network: Network) -> None:
    typer.echo(f"  plc directory  {network.plc_url}", err=True)
    typer.echo(f"  pds            {network.pds_url}", err=True)
    for account in network.accounts.values():
        typer.echo(
            f"  sign in as     {account.handle:14} password {account.password:16} {account.did}",
            err=True,
        )


def devnet(
    plc_port: Annotated[int | None, typer.Option(help="PLC port (PLYR_DEVNET_PLC_PORT)")] = None,
    pds_port: Annotated[int | None, typer.Option(help="PDS port (PLYR_DEVNET_PDS_PORT)")] = None,
) -> None:
    """Run only the local ATProto network, with demo accounts, until Ctrl+C.

    Its data lives in <data>/devnet and survives restarts. Point plyr at it with the
    variables it prints (or use `plyr serve --devnet`, which does both).
    """
    from plyr.atproto.devnet import DevnetError, start_network

    settings = load_settings()
    try:
        network = start_network(
            settings.data_dir / "devnet",
            plc_port=plc_port or settings.devnet_plc_port,
            pds_port=pds_port or settings.devnet_pds_port,
        )
    except DevnetError as exc:
        die(str(exc))
    _print_devnet(network)
    extra = devnet_labeler_settings(settings.model_copy(update=devnet_settings(network)), network)
    typer.echo("environment for `plyr serve` in another shell:", err=True)
    for name, value in {**devnet_settings(network), **extra}.items():
        typer.echo(f"  export PLYR_{name.upper()}={str(value).lower() if value is True else value}")
    # Wait for Ctrl+C / SIGTERM, or for the network to die on its own (then say so).
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            if network.process is not None and network.process.poll() is not None:
                die(f"the local ATProto network stopped; see {network.log_path}")
    finally:
        network.stop()
