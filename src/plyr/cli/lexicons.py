"""`plyr lexicons …`: plyr's lexicon documents as the network finds them.

`plyr lexicons publish --identifier <authority account> --password <app password>` writes
the documents of plyr's namespace (its records and its permission set,
`<namespace>.authFullApp`) into that account's repository as `com.atproto.lexicon.schema`
records, keyed by NSID; running it again changes only what changed. Then point DNS at
the account: a TXT record `did=<did>` at each `_lexicon.<authority>` it prints. Until the
permission set resolves, sign-in asks for the collections one by one
(`PLYR_OAUTH_PERMISSION_SET=auto`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from plyr.cli.common import die, load_settings

lexicons_app = typer.Typer(help="plyr's lexicon documents.", no_args_is_help=True)


@lexicons_app.command("list")
def list_documents() -> None:
    """The documents plyr ships, in the configured namespace."""
    from plyr.atproto.lexicon import load_lexicons

    settings = load_settings()
    for document in load_lexicons(settings.atproto_namespace).documents():
        kind = document["defs"].get("main", {}).get("type", "defs")
        typer.echo(f"{document['id']}  {kind}")


@lexicons_app.command()
def publish(
    identifier: Annotated[
        str, typer.Option(help="handle or DID of the account that holds plyr's lexicons")
    ],
    password: Annotated[
        str,
        typer.Option(
            envvar="PLYR_LEXICON_APP_PASSWORD",
            prompt=True,
            hide_input=True,
            help="an app password of that account (or PLYR_LEXICON_APP_PASSWORD)",
        ),
    ],
    pds: Annotated[
        str | None, typer.Option(help="its PDS URL (default: resolved from the identifier)")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option(help="publish only this NSID (repeatable)")
    ] = None,
) -> None:
    """Publish the documents of plyr's namespace as com.atproto.lexicon.schema records."""
    import httpx

    from plyr.atproto.identity import IdentityError, IdentityResolver
    from plyr.atproto.lexicon import load_lexicons
    from plyr.atproto.lexicon.publishing import dns_name, publish_documents
    from plyr.atproto.repo import RepoClient
    from plyr.atproto.xrpc import PasswordSession, XrpcClient, XrpcError

    settings = load_settings()
    namespace = settings.atproto_namespace
    documents = [
        document
        for document in load_lexicons(namespace).documents()
        if str(document["id"]).startswith(namespace + ".")
    ]
    if only:
        unknown = sorted(set(only) - {str(document["id"]) for document in documents})
        if unknown:
            die(f"not a document of {namespace}: {', '.join(unknown)}")
        documents = [document for document in documents if document["id"] in only]

    async def run() -> tuple[str, list[tuple[str, str, str]]]:
        service = pds
        if service is None:
            resolver = IdentityResolver(settings)
            try:
                service = (await resolver.resolve(identifier)).pds_url
            finally:
                await resolver.aclose()
        async with httpx.AsyncClient(timeout=30.0) as http:
            session = await PasswordSession.create(http, service, identifier, password)
            repo = RepoClient(XrpcClient(http, service, session), session.did)
            published = await publish_documents(repo, documents)
        return session.did, [(item.nsid, item.outcome, item.uri) for item in published]

    try:
        did, rows = asyncio.run(run())
    except IdentityError as exc:
        die(str(exc))
    except (XrpcError, httpx.HTTPError) as exc:
        die(f"publishing failed: {exc}")
    for nsid, outcome, uri in rows:
        typer.echo(f"{outcome:9}  {nsid}  {uri}")
    typer.echo("\nDNS: each of these names needs a TXT record pointing at the account:")
    for name in sorted({dns_name(nsid) for nsid, _, _ in rows}):
        typer.echo(f'  {name}  TXT  "did={did}"')
