"""One settings object for the whole service, read from `PLYR_*` variables and `.env`.

Defaults describe the embedded mode: SQLite and local files under the data folder,
nothing else to install. Secrets are `SecretStr` so they never print by accident.
"""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PLYR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default=Path("data"), description="folder for SQLite, media, keys")
    public_url: str = Field(default="http://127.0.0.1:8000", description="URL users reach")
    host: str = "127.0.0.1"
    port: int = 8000
    http_server: Literal["granian", "uvicorn"] = Field(
        default="granian", description="the HTTP server `plyr serve` runs the app in"
    )

    database_url: str | None = Field(
        default=None, description="sqlite+aiosqlite:///… or postgresql+asyncpg://…"
    )
    database_pool_size: int = 10
    database_echo: bool = False

    storage_backend: Literal["local", "s3"] = "local"
    storage_local_dir: Path | None = Field(default=None, description="default: <data_dir>/media")
    s3_endpoint_url: str | None = None
    s3_region: str = "auto"
    s3_bucket: str = "plyr"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_public_base_url: str | None = Field(
        default=None, description="public/CDN base for objects; presigned URLs when unset"
    )
    s3_presign_seconds: int = 3600
    s3_part_size: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024)
    s3_addressing_style: Literal["auto", "path", "virtual"] = "path"
    media_offload: Literal["none", "x-accel-redirect", "x-sendfile"] = Field(
        default="none",
        description="let the proxy send local media: x-accel-redirect (nginx), x-sendfile (Apache)",
    )
    media_public_links: bool = Field(
        default=True,
        description="keep links to public tracks' files for fast serving (local storage)",
    )
    media_public_dir: Path | None = Field(
        default=None,
        description="the public links' folder, outside the storage folder; "
        "default: <data_dir>/public-media",
    )
    media_offload_prefix: str = Field(
        default="/_protected_media/",
        pattern=r"^/([A-Za-z0-9._~-]+/)*$",
        description="nginx `internal` location aliasing the storage folder (x-accel-redirect)",
    )

    secret_key: SecretStr | None = Field(
        default=None, description="encryption key; generated into <data_dir>/secret.key"
    )

    max_upload_bytes: int = Field(default=1_500_000_000, gt=0)
    max_image_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    wav_stream_limit_bytes: int = Field(
        default=50 * 1024 * 1024, gt=0, description="WAV files above this are transcoded to stream"
    )
    publish_blob_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=0,
        description="largest audio also put in the PDS as audioBlob (the PDS may refuse less)",
    )

    jobs_enabled: bool = Field(default=True, description="run the job worker inside `serve`")
    job_concurrency: int = Field(default=2, ge=1)
    job_poll_seconds: float = Field(default=1.0, gt=0)
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_backoff_base_seconds: float = Field(default=2.0, gt=0)
    job_backoff_cap_seconds: float = Field(default=600.0, gt=0)

    atproto_namespace: str = Field(
        default="fm.plyr", description="NSID prefix of plyr's record collections"
    )
    plc_url: str = Field(default="https://plc.directory", description="did:plc directory")
    atproto_dev_network: bool = Field(
        default=False,
        description="allow loopback hosts (a local PLC + PDS); refused in production",
    )
    atproto_dev_pds_url: str | None = Field(
        default=None, description="PDS of the local development network; resolves .test handles"
    )
    devnet_plc_port: int = Field(default=2582, description="`plyr devnet` / `serve --devnet`")
    devnet_pds_port: int = 2583
    identity_timeout_seconds: float = Field(default=5.0, gt=0)
    identity_cache_seconds: float = Field(default=3600.0, ge=0)
    identity_max_bytes: int = Field(default=64 * 1024, gt=0)
    ingest_enabled: bool = Field(default=True, description="follow the firehose inside `serve`")
    ingest_url: str | None = Field(
        default=None, description="relay or PDS to follow (ws[s]:// or http[s]://)"
    )

    oauth_client_mode: Literal["auto", "loopback", "confidential"] = Field(
        default="auto",
        description="auto: the loopback development client when the public URL is loopback",
    )
    oauth_client_key: SecretStr | None = Field(
        default=None, description="ES256 private JWK (JSON); generated into <data>/oauth-key.json"
    )
    oauth_client_name: str = "plyr"
    oauth_permission_set: Literal["auto", "on", "off"] = Field(
        default="auto",
        description=(
            "sign-in asks for plyr's permission set (include:<namespace>.authFullApp): "
            "auto where the server accepts it (else the collections one by one), on always, "
            "off never"
        ),
    )
    session_days: int | None = Field(
        default=None,
        ge=1,
        le=365,
        description="browser sign-in lifetime; default 14 (loopback client) or 180 (confidential)",
    )
    teal_play_collection: str = "fm.teal.alpha.feed.play"
    teal_status_collection: str = "fm.teal.alpha.actor.status"
    now_playing_ttl_seconds: float = Field(
        default=60.0,
        gt=0,
        description="a player's now-playing report counts this long unless it reports again",
    )
    rate_limit_sign_in_per_minute: int = Field(default=10, ge=1)
    rate_limit_writes_per_minute: int = Field(default=120, ge=1)
    rate_limit_uploads_per_hour: int = Field(default=60, ge=1)
    rate_limit_exports_per_hour: int = Field(default=10, ge=1)
    export_link_hours: float = Field(
        default=24.0, gt=0, description="how long a finished export's download link works"
    )

    admin_dids: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="DIDs allowed to use the admin API (sensitive artwork): comma or JSON list",
    )

    # Copyright moderation (plyr/moderation/): fingerprints, matching, the labeler.
    moderation_fingerprints: bool = Field(
        default=True, description="fingerprint published tracks and match them (a job)"
    )
    moderation_matcher: Literal["chromaprint", "acoustid"] = Field(
        default="chromaprint",
        description="chromaprint: the local engine; acoustid: a web service (needs a key)",
    )
    moderation_threshold: int = Field(
        default=50, ge=1, le=100, description="a match scoring this or more (0-100) opens a flag"
    )
    acoustid_url: str = Field(
        default="https://api.acoustid.org/v2/lookup", description="the web service matcher"
    )
    acoustid_api_key: SecretStr | None = Field(default=None, description="its application key")
    labeler_did: str | None = Field(
        default=None,
        description="plyr's labeler identity (did:plc); `serve --devnet` makes one itself",
    )
    labeler_key: SecretStr | None = Field(
        default=None,
        description="the labeler's #atproto_label signing key (hex, secp256k1); "
        "generated into <data>/labeler.key",
    )
    labeler_streams_per_address: int = Field(
        default=20, ge=1, description="subscribeLabels connections one client address may hold"
    )
    labeler_streams_max: int = Field(
        default=1000, ge=1, description="subscribeLabels connections this process serves at once"
    )
    labeler_stream_backlog: int = Field(
        default=5000,
        ge=1,
        description="labels a subscribeLabels client may fall behind before it is disconnected",
    )

    # Tag effects (plyr/social/tag_effects.py): the seed's bufo easter egg, off until a folder
    # is set. A folder that cannot be used turns it off with a logged warning.
    tag_effects_dir: Path | None = Field(
        default=None,
        description="folder of gif/png/webp/jpg images drifting across the page of a track "
        "carrying a trigger tag; unset: no effect",
    )
    tag_effects_tags: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["bufo"], description="tags that trigger it: comma or JSON list"
    )
    tag_effects_exclude: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="globs of image file names never shown, e.g. bigbufo_*"
    )
    tag_effects_include: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="globs of file names shown even when excluded"
    )
    tag_effects_count: int = Field(default=6, ge=1, le=12, description="images at once")

    metrics_token: SecretStr | None = Field(
        default=None,
        description="bearer token Prometheus sends to /metrics; unset: loopback scrapes only",
    )

    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "console"

    @field_validator("atproto_namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) < 2 or not all(part.isascii() and part.isalnum() for part in parts):
            raise ValueError("must be a reverse domain name such as fm.plyr")
        return value.lower()

    @field_validator("admin_dids", mode="before")
    @classmethod
    def _did_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            dids = [str(item).strip() for item in value if str(item).strip()]
            for did in dids:
                if not did.startswith("did:") or len(did.split(":")) < 3:
                    raise ValueError(f"{did!r} is not a DID (did:plc:… or did:web:…)")
            return dids
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: Any) -> Any:
        # `PLYR_METRICS_TOKEN=` (compose passes it empty when unset) must not mean "the empty
        # token opens /metrics to anyone".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "tag_effects_tags", "tag_effects_exclude", "tag_effects_include", mode="before"
    )
    @classmethod
    def _name_list(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            items = [str(item).strip() for item in value if str(item).strip()]
            if info.field_name == "tag_effects_tags":  # as tracks' tags are kept
                items = [" ".join(item.lower().lstrip("#").split()) for item in items]
            return list(dict.fromkeys(item for item in items if item))
        return value

    @field_validator("plc_url", "ingest_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _public_url_follows_port(self) -> Settings:
        # Unset, the public URL is where `plyr serve` listens, so PLYR_PORT alone is enough
        # for sign-in redirects to come back to the right place.
        if "public_url" not in self.model_fields_set:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
            self.public_url = f"http://{host}:{self.port}"
        return self

    @model_validator(mode="after")
    def _production_guards(self) -> Settings:
        if self.environment == "production" and self.atproto_dev_network:
            raise ValueError(
                "PLYR_ATPROTO_DEV_NETWORK lets plyr fetch loopback addresses; "
                "it cannot be on when PLYR_ENVIRONMENT=production"
            )
        return self

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        return normalise_database_url(value) if value else None

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'plyr.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def effective_storage_local_dir(self) -> Path:
        return self.storage_local_dir or self.data_dir / "media"

    @property
    def effective_media_public_dir(self) -> Path:
        return self.media_public_dir or self.data_dir / "public-media"

    def ensure_data_dir(self) -> Path:
        """The data folder, made if missing, readable by plyr's user only: it holds the
        database (sessions, encrypted tokens), the secret key and the media."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.data_dir.stat().st_mode & 0o077:
            self.data_dir.chmod(0o700)  # an install from before plyr kept it private
        return self.data_dir

    def secret_key_bytes(self) -> bytes:
        """The encryption key; read from settings or from the data folder, created once."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip().encode()
        self.ensure_data_dir()
        key = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting together must not each write a different key.
        try:
            fd = _open_exclusive(path)
        except FileExistsError:
            return path.read_text().strip().encode()
        with open(fd, "w") as handle:
            handle.write(key + "\n")
        return key.encode()

    def masked(self) -> dict[str, Any]:
        """The effective configuration for display: secrets and URL passwords hidden."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif name == "database_url":
                value = mask_url_password(self.effective_database_url)
            shown[name] = value
        if self.secret_key is None:
            shown["secret_key"] = f"(generated, in {self.data_dir / SECRET_KEY_FILE})"
        shown["storage_local_dir"] = self.effective_storage_local_dir
        return shown


def _open_exclusive(path: Path) -> int:
    import os

    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (`postgres://…`, `postgresql://…`) and pick async drivers."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            "not a database URL; use sqlite+aiosqlite:///path/plyr.db "
            "or postgresql+asyncpg://user:password@host:5432/name"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}; plyr runs on sqlite or postgresql")
    if parsed.drivername != _ASYNC_DRIVERS[backend]:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    return parsed.render_as_string(hide_password=False)


def mask_url_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
