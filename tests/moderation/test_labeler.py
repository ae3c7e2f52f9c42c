"""plyr's labeler identity on the real local network (reference PLC + PDS): the DID document
`serve --devnet` makes (its `#atproto_label` key and `atproto_labeler` endpoint, resolved
from the PLC), the `app.bsky.labeler.service` record read back from the PDS and checked by
the PDS's own lexicon, a restart that reuses all of it, and `plyr labeler plc-op` / `status`
/ `service-record` run as processes against the same PLC."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from plyr.atproto import plc
from plyr.atproto.devnet import Network
from plyr.atproto.signatures import SigningKey
from plyr.config import Settings
from plyr.moderation import labeler
from plyr.moderation.devnet_labeler import ensure_devnet_labeler
from tests.support.cli import plyr_env, run_plyr
from tests.support.labeler import node_reference, serve_labeler, unique_handle
from tests.support.plyr_server import PlyrServer


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    async for server in serve_labeler(atproto_net, db_url, tmp_path_factory.mktemp("labeler")):
        yield server


async def _audit_log(atproto_net: Network, did: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{atproto_net.plc_url}/{did}/log/audit")
    assert response.status_code == 200
    entries: list[dict[str, object]] = response.json()
    return entries


async def test_the_did_document_names_the_label_key_and_endpoint(
    plyr: PlyrServer, atproto_net: Network
) -> None:
    did = plyr.settings.labeler_did
    assert did is not None
    assert did.startswith("did:plc:")
    key = labeler.signing_key(plyr.settings)
    async with httpx.AsyncClient() as http:
        document = await plc.document(http, atproto_net.plc_url, did)
        last = await plc.last_operation(http, atproto_net.plc_url, did)
    # Ids are `#fragment` or `did#fragment` (both allowed; this PLC writes the first).
    methods = {method["id"].split("#")[-1]: method for method in document["verificationMethod"]}
    # This PLC still writes the legacy suite (Multikey elsewhere): either names the key.
    assert labeler.method_key(methods["atproto_label"]) == key.public_key
    assert "atproto" in methods  # the PDS's signing key is kept
    services = {service["id"].split("#")[-1]: service for service in document["service"]}
    assert services["atproto_labeler"]["type"] == "AtprotoLabeler"
    assert services["atproto_labeler"]["serviceEndpoint"] == plyr.url
    assert "atproto_pds" in services
    assert labeler.document_problems(document, key, plyr.url) == []
    assert labeler.document_problems(document, SigningKey.generate("secp256k1"), plyr.url)
    # plyr holds a rotation key of the DID: that is how it signed the operation.
    state = labeler.read_devnet_state(plyr.settings)
    assert state is not None
    assert state.did == did
    assert state.rotation_key().did_key() in last["rotationKeys"]
    # The state and the label key are plyr's alone.
    for secret in (
        labeler.devnet_state_path(plyr.settings),
        plyr.settings.data_dir / "labeler.key",
    ):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600


async def test_a_restart_reuses_the_identity_and_a_new_url_updates_it(
    plyr: PlyrServer, atproto_net: Network
) -> None:
    did = plyr.settings.labeler_did
    assert did is not None
    before = await _audit_log(atproto_net, did)
    again = await ensure_devnet_labeler(
        plyr.settings, pds_url=atproto_net.pds_url, plc_url=atproto_net.plc_url
    )
    assert again.did == did
    assert len(await _audit_log(atproto_net, did)) == len(before)  # nothing sent
    moved = "http://127.0.0.1:1"
    await ensure_devnet_labeler(
        plyr.settings, pds_url=atproto_net.pds_url, plc_url=atproto_net.plc_url, public_url=moved
    )
    after = await _audit_log(atproto_net, did)
    assert len(after) == len(before) + 1
    # Our `prev` is the CID the directory itself gave the previous operation.
    assert after[-1]["operation"]["prev"] == before[-1]["cid"]  # type: ignore[index]
    async with httpx.AsyncClient() as http:
        document = await plc.document(http, atproto_net.plc_url, did)
    key = labeler.signing_key(plyr.settings)
    assert labeler.document_problems(document, key, moved) == []
    await ensure_devnet_labeler(  # back, for the other tests
        plyr.settings, pds_url=atproto_net.pds_url, plc_url=atproto_net.plc_url, public_url=plyr.url
    )


async def test_the_service_record_is_in_the_repository_and_valid(
    plyr: PlyrServer, atproto_net: Network
) -> None:
    did = plyr.settings.labeler_did
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{atproto_net.pds_url}/xrpc/com.atproto.repo.getRecord",
            params={"repo": did, "collection": "app.bsky.labeler.service", "rkey": "self"},
        )
    assert response.status_code == 200, response.text
    record = response.json()["value"]
    policies = record["policies"]
    assert policies["labelValues"] == ["copyright-violation", "takedown", "sensitive-artwork"]
    # Hidden accounts are labelled on their DID: the record says accounts are subjects too.
    assert record["subjectTypes"] == ["record", "account"]
    definitions = {item["identifier"]: item for item in policies["labelValueDefinitions"]}
    assert set(definitions) == set(policies["labelValues"])
    for definition in definitions.values():
        assert definition["severity"] in {"inform", "alert", "none"}
        assert definition["blurs"] in {"content", "media", "none"}
        assert definition["defaultSetting"] in {"ignore", "warn", "hide"}
        assert definition["locales"][0]["lang"] == "en"
        assert definition["locales"][0]["name"]
        assert definition["locales"][0]["description"]
    broken = {**record, "policies": {"labelValueDefinitions": []}}
    verdicts = node_reference({"op": "service", "records": [record, broken]})["results"]
    assert verdicts[0] == {"valid": True, "error": None}
    assert verdicts[1]["valid"] is False
    assert "labelValues" in verdicts[1]["error"]


async def _account_with_recovery_key(atproto_net: Network, recovery: SigningKey) -> str:
    handle = unique_handle("prod")
    async with httpx.AsyncClient() as http:
        made = await http.post(
            f"{atproto_net.pds_url}/xrpc/com.atproto.server.createAccount",
            json={
                "handle": handle,
                "password": "prod-labeler-password",
                "email": f"{handle.replace('.', '-')}@example.com",
                "recoveryKey": recovery.did_key(),
            },
        )
    assert made.status_code == 200, made.text
    did: str = made.json()["did"]
    return did


async def test_the_plc_op_command_adds_the_labeler_to_a_did(
    atproto_net: Network, tmp_path: Path
) -> None:
    rotation = SigningKey.generate("secp256k1")
    did = await _account_with_recovery_key(atproto_net, rotation)
    key_file = tmp_path / "rotation.hex"
    key_file.write_text(rotation.private_bytes().hex() + "\n")
    stranger_file = tmp_path / "stranger.hex"
    stranger_file.write_text(SigningKey.generate("secp256k1").private_bytes().hex())
    endpoint = "https://labeler.example.com"
    env = plyr_env(
        tmp_path / "data",
        PLYR_PLC_URL=atproto_net.plc_url,
        PLYR_PUBLIC_URL=endpoint,
        PLYR_ATPROTO_DEV_NETWORK="true",
    )
    before = await _audit_log(atproto_net, did)

    # Not a rotation key of the DID: refused, nothing sent.
    refused = await run_plyr(
        "labeler", "plc-op", "--did", did, "--rotation-key-file", str(stranger_file), "--submit",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "not one of the DID's rotation keys" in refused.output
    bad_did = await run_plyr(
        "labeler", "plc-op", "--did", "did:web:x.example", "--rotation-key-file", str(key_file),
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert bad_did.returncode != 0
    assert "not a did:plc" in bad_did.output
    assert len(await _audit_log(atproto_net, did)) == len(before)

    # Printed only: a signed operation, not sent.
    printed = await run_plyr(
        "labeler", "plc-op", "--did", did, "--rotation-key-file", str(key_file),
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert printed.returncode == 0, printed
    operation = json.loads(printed.output)
    assert operation["prev"] == before[-1]["cid"]
    assert operation["services"]["atproto_labeler"] == {
        "type": "AtprotoLabeler",
        "endpoint": endpoint,
    }
    label_key = labeler.signing_key(labeler_settings_for(tmp_path / "data"))
    assert operation["verificationMethods"]["atproto_label"] == label_key.did_key()
    assert len(await _audit_log(atproto_net, did)) == len(before)

    status = await run_plyr("labeler", "status", env=env | {"PLYR_LABELER_DID": did}, cwd=tmp_path)
    assert status.returncode != 0
    assert "no #atproto_label" in status.output

    submitted = await run_plyr(
        "labeler", "plc-op", "--did", did, "--rotation-key-file", str(key_file), "--submit",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted
    async with httpx.AsyncClient() as http:
        document = await plc.document(http, atproto_net.plc_url, did)
    assert labeler.document_problems(document, label_key, endpoint) == []

    status = await run_plyr("labeler", "status", env=env | {"PLYR_LABELER_DID": did}, cwd=tmp_path)
    assert status.returncode == 0, status
    assert "names this key and endpoint" in status.output

    record = await run_plyr("labeler", "service-record", env=env, cwd=tmp_path)
    assert record.returncode == 0, record
    verdict = node_reference({"op": "service", "records": [json.loads(record.output)]})
    assert verdict["results"] == [{"valid": True, "error": None}]


def labeler_settings_for(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]


KEY_RACE = """
import sys, time
from pathlib import Path
from plyr.config import Settings
from plyr.moderation import labeler
root, base, rounds = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
for round_ in range(rounds):
    while time.time() < base + round_ * 0.25:
        time.sleep(0.0005)
    settings = Settings(_env_file=None, data_dir=root / str(round_), secret_key="x")
    labeler._keys.clear()
    try:
        print(round_, labeler.signing_key(settings).did_key(), flush=True)
    except labeler.LabelerError as exc:
        print(round_, "error:", exc, flush=True)
"""


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    """Processes (the server, the CLI, a worker) that start together on a fresh data folder:
    the first to create labeler.key wins; none reads a half-written key ("not a hex key")
    or signs with a key of its own."""
    rounds, processes = 16, 6
    base = time.time() + 10  # every process has imported plyr by then
    running = [
        subprocess.Popen(
            [sys.executable, "-c", KEY_RACE, str(tmp_path), str(base), str(rounds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    seen: dict[int, set[str]] = {round_: set() for round_ in range(rounds)}
    for process in running:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        for line in out.splitlines():
            round_, key = line.split(" ", 1)
            seen[int(round_)].add(key)
    for round_, keys in seen.items():
        assert len(keys) == 1, (round_, keys)
        assert next(iter(keys)).startswith("did:key:"), keys
        folder = tmp_path / str(round_)
        assert [path.name for path in folder.iterdir()] == [labeler.LABELER_KEY_FILE]
        assert stat.S_IMODE((folder / labeler.LABELER_KEY_FILE).stat().st_mode) == 0o600


def test_a_leftover_temporary_state_file_does_not_leak_its_mode(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", secret_key="x")  # type: ignore[call-arg]
    settings.ensure_data_dir()
    leftover = labeler.devnet_state_path(settings).with_suffix(".tmp")
    leftover.write_text("half of an earlier write")
    leftover.chmod(0o644)
    state = labeler.DevnetState("did:plc:x", "l.test", "pw", "11" * 32, "http://p", "http://c")

    labeler.write_devnet_state(settings, state)

    assert stat.S_IMODE(labeler.devnet_state_path(settings).stat().st_mode) == 0o600
    assert labeler.read_devnet_state(settings) == state
