"""Where the SDK finds plyr and the developer token.

The base URL: an explicit argument, else `PLYR_URL`, else the config file, else
`http://127.0.0.1:8000` (what `plyr serve` listens on). The token: an explicit argument,
else `PLYR_TOKEN`, else the config file. The config file is
`$XDG_CONFIG_HOME/plyrfm/config.json` (`~/.config/plyrfm/config.json` by default), JSON
`{"url": …, "token": …}`, readable by its owner only: `plyrfm login` writes it."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from plyrfm.errors import PlyrError

DEFAULT_URL = "http://127.0.0.1:8000"
URL_ENV = "PLYR_URL"
TOKEN_ENV = "PLYR_TOKEN"  # noqa: S105 - the name of the variable, not a secret


@dataclass(frozen=True)
class Config:
    """Where plyr is and the token to send it (None: anonymous)."""

    url: str = DEFAULT_URL
    token: str | None = field(default=None, repr=False)  # never in a log or a traceback


def config_path() -> Path:
    """The config file's path (it may not exist)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "plyrfm" / "config.json"


def read_config_file(path: Path | None = None) -> dict[str, str]:
    """The saved settings; {} when there is no file. A file that is not a JSON object is
    an error rather than silently ignored (it would hide a wrong token)."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise PlyrError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise PlyrError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PlyrError(f"{path} should hold a JSON object")
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def load_config(url: str | None = None, token: str | None = None) -> Config:
    """Resolve the URL and token: explicit arguments > environment > config file > default."""
    # Spaces and line breaks around a value are a copy-paste accident (a token file with
    # CRLF), never part of it.
    url = (url or os.environ.get(URL_ENV) or "").strip() or None
    token = (token or os.environ.get(TOKEN_ENV) or "").strip() or None
    # The file is read only when it is needed, so a broken one cannot stand in the way of
    # settings given explicitly.
    saved = read_config_file() if not (url and token) else {}
    resolved_url = url or saved.get("url", "").strip() or DEFAULT_URL
    resolved_token = token or saved.get("token", "").strip() or None
    return Config(url=resolved_url.rstrip("/"), token=resolved_token)


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write the config file (mode 0600, its folder 0700) atomically: a crash leaves the old
    file or the new one, never half of one. A token of None removes it from the file."""
    path = path or config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a folder the user made looser: tighten it
        path.parent.chmod(0o700)
    data: dict[str, str] = {"url": config.url}
    if config.token:
        data["token"] = config.token
    # mkstemp creates the file 0600, so the token is never readable by others, not even
    # for a moment before a chmod.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
