"""`plyr labeler …`: plyr's labeler identity in production (the development network makes
its own: `plyr devnet`, `serve --devnet`).

1. `plyr labeler plc-op --did … --rotation-key-file …` prints the signed PLC operation that
   adds the label key and plyr's endpoint to the DID; `--submit` sends it to PLYR_PLC_URL.
2. Put `plyr labeler service-record` into the DID's repository as
   `app.bsky.labeler.service/self` (with any atproto client).
3. Set PLYR_LABELER_DID; `plyr labeler status` checks the DID document.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from plyr.cli.common import die, load_settings

labeler_app = typer.Typer(help="plyr's ATProto labeler: its identity.", no_args_is_help=True)


def _rotation_key(path: Path, curve: str) -> Any:
    from plyr.atproto.signatures import InvalidKey, SigningKey

    try:
        raw = bytes.fromhex(path.read_text().strip())
        return SigningKey.from_private_bytes("p256" if curve == "p256" else "secp256k1", raw)
    except OSError as exc:
        die(f"cannot read {path}: {exc.strerror}")
    except (ValueError, InvalidKey):
        die(f"{path} does not hold a hex {curve} private key")


@labeler_app.command("plc-op")
def plc_op(
    did: Annotated[str, typer.Option(help="the labeler's did:plc")],
    rotation_key_file: Annotated[
        Path, typer.Option(help="a file holding a rotation key of that DID (hex private key)")
    ],
    curve: Annotated[str, typer.Option(help="the rotation key's curve: secp256k1 or p256")] = (
        "secp256k1"
    ),
    submit: Annotated[bool, typer.Option(help="send it to the PLC directory too")] = False,
) -> None:
    """Print the signed PLC operation adding #atproto_label and #atproto_labeler to the DID."""
    import httpx

    from plyr.atproto import plc
    from plyr.atproto.syntax.did import is_valid_did_plc
    from plyr.moderation import labeler
    from plyr.moderation.devnet_labeler import labeler_changes

    if not is_valid_did_plc(did):
        die(f"{did!r} is not a did:plc")
    if curve not in {"secp256k1", "p256"}:
        die("--curve is secp256k1 or p256")
    settings = load_settings()
    rotation = _rotation_key(rotation_key_file, curve)
    key = labeler.signing_key(settings)

    async def run() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=15.0) as http:
            last = await plc.last_operation(http, settings.plc_url, did)
            if rotation.did_key() not in (last.get("rotationKeys") or []):
                die("that key is not one of the DID's rotation keys")
            changes = labeler_changes(key, settings.public_url)
            signed = plc.sign_operation(plc.next_operation(last, **changes), rotation)
            if submit:
                await plc.submit(http, settings.plc_url, did, signed)
            return signed

    try:
        signed = asyncio.run(run())
    except plc.PlcError as exc:
        die(str(exc))
    typer.echo(json.dumps(signed, indent=2))
    if submit:
        typer.echo(f"submitted to {settings.plc_url}; set PLYR_LABELER_DID={did}", err=True)


@labeler_app.command("service-record")
def service_record() -> None:
    """Print the app.bsky.labeler.service record to put at rkey `self`."""
    from plyr.moderation import labeler

    typer.echo(json.dumps(labeler.service_record(), indent=2))


@labeler_app.command("status")
def status() -> None:
    """The labeler's DID and key, and whether its DID document names them and plyr's URL."""
    from plyr.atproto.identity import IdentityError
    from plyr.moderation import labeler
    from plyr.runtime import Runtime

    settings = load_settings()
    key = labeler.signing_key(settings)
    did = labeler.labeler_did(settings)
    typer.echo(f"key       {key.did_key()}")
    typer.echo(f"endpoint  {settings.public_url}")
    if did is None:
        die("no labeler DID: set PLYR_LABELER_DID (or run `plyr serve --devnet`)")
    typer.echo(f"did       {did}")

    async def resolve() -> dict[str, Any]:
        runtime = Runtime.open(settings)
        try:
            return dict((await runtime.identity.resolve_did(did)).raw)
        finally:
            await runtime.close()

    try:
        document = asyncio.run(resolve())
    except IdentityError as exc:
        die(f"the DID document does not resolve: {exc}")
    problems = labeler.document_problems(document, key, settings.public_url)
    if problems:
        die("the DID document is not this labeler's: " + "; ".join(problems))
    typer.echo("document  names this key and endpoint")
