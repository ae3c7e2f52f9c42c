"""Reading the deploy files as Docker would: compose.yaml with its `${…}` interpolation and
YAML anchors, the Dockerfile's ENV lines, and a `plyr …` command line parsed by plyr's own
CLI without running it."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import typer
import yaml
from typer.core import TyperGroup

from plyr.cli.root import app as cli_app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a dollar.
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


class UnknownCommand(Exception):
    """Arguments that name no `plyr` command."""


class MissingVariable(Exception):
    """A `${NAME:?message}` whose variable is unset: compose refuses to start."""


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        value = variables.get(name)
        unset_or_empty = value is None or (value == "" and op is not None and op[0] == ":")
        if op is not None and op.endswith("-") and unset_or_empty:
            return arg
        if op is not None and op.endswith("?") and unset_or_empty:
            raise MissingVariable(f"{name}: {arg}")
        return value or ""

    return _VARIABLE.sub(replace, text)


def load_compose(variables: Mapping[str, str]) -> dict[str, Any]:
    """compose.yaml after interpolation (the whole file, as compose does) and merge keys."""
    loaded = yaml.safe_load(interpolate(COMPOSE.read_text(), variables))
    assert isinstance(loaded, dict)
    return loaded


def variables_named() -> dict[str, str]:
    """Each `${NAME…}` in compose.yaml and how it is used (`:?` required, `:-` defaulted)."""
    found: dict[str, str] = {}
    for match in _VARIABLE.finditer(COMPOSE.read_text()):
        if match.group("name"):
            found[match.group("name")] = match.group("op") or ""
    return found


def dockerfile_env() -> dict[str, str]:
    """The variables the image's ENV instructions set."""
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in joined.splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line.removeprefix("ENV ")):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def container_env(service: Mapping[str, Any]) -> dict[str, str]:
    """What a plyr container sees: the image's ENV, then the service's environment."""
    image = {k: v for k, v in dockerfile_env().items() if k.startswith("PLYR_")}
    return {**image, **{k: str(v) for k, v in service.get("environment", {}).items()}}


def plyr_command(arguments: Sequence[str]) -> Any:
    """The `plyr` subcommand these arguments name, parsed with its options (the CLI raises
    its UsageError on an unknown command or option); `arguments` start after `plyr`."""
    command: Any = typer.main.get_command(cli_app)
    remaining = list(arguments)
    while isinstance(command, TyperGroup):
        if not remaining:
            raise UnknownCommand(f"`plyr {' '.join(arguments)}` names a group, not a command")
        name, *remaining = remaining
        found = command.get_command(command.context_class(command), name)
        if found is None:
            raise UnknownCommand(f"no command {name!r} in `plyr {' '.join(arguments)}`")
        command = found
    command.make_context(command.name or "plyr", remaining)
    return command
