"""Settings: embedded-mode defaults, the generated secret key, masking, URL normalisation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from plyr.config import SECRET_KEY_FILE, Settings, mask_url_password, normalise_database_url


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PLYR_* from the machine running the tests, and no stray .env in the cwd."""
    for name in list(os.environ):
        if name.upper().startswith("PLYR_"):
            monkeypatch.delenv(name)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)


def settings_in(data_dir: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, **values)  # type: ignore[call-arg]


def test_defaults_are_the_embedded_mode(tmp_path: Path) -> None:
    settings = settings_in(tmp_path / "data")

    assert settings.database_url is None
    expected_db = (tmp_path / "data" / "plyr.db").resolve()
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{expected_db}"
    assert settings.is_sqlite
    assert settings.storage_backend == "local"
    assert settings.effective_storage_local_dir == tmp_path / "data" / "media"
    assert settings.environment == "development"
    assert settings.jobs_enabled


def test_default_data_dir_is_relative_data_folder() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.data_dir == Path("data")
    assert settings.effective_database_url == (
        f"sqlite+aiosqlite:///{(Path.cwd() / 'data' / 'plyr.db').resolve()}"
    )


def test_explicit_local_storage_dir_wins(tmp_path: Path) -> None:
    settings = settings_in(tmp_path / "data", storage_local_dir=tmp_path / "elsewhere")

    assert settings.effective_storage_local_dir == tmp_path / "elsewhere"


def test_public_url_loses_its_trailing_slash(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, public_url="https://plyr.example/")

    assert settings.public_url == "https://plyr.example"


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet-there"
    key_file = data_dir / SECRET_KEY_FILE
    assert not key_file.exists()

    first = settings_in(data_dir).secret_key_bytes()

    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert key_file.read_text().strip().encode() == first
    written = key_file.stat().st_mtime_ns

    # Same instance, a new instance: the same key, and the file is not rewritten.
    assert settings_in(data_dir).secret_key_bytes() == first
    assert settings_in(data_dir).secret_key_bytes() == first
    assert key_file.stat().st_mtime_ns == written


def test_each_data_dir_gets_its_own_key(tmp_path: Path) -> None:
    one = settings_in(tmp_path / "one").secret_key_bytes()
    two = settings_in(tmp_path / "two").secret_key_bytes()

    assert one != two


def test_existing_key_file_is_used(tmp_path: Path) -> None:
    tmp_path.joinpath(SECRET_KEY_FILE).write_text("a-key-someone-put-there\n")

    assert settings_in(tmp_path).secret_key_bytes() == b"a-key-someone-put-there"


def test_explicit_secret_key_wins_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path.joinpath(SECRET_KEY_FILE).write_text("the-file-key\n")
    monkeypatch.setenv("PLYR_SECRET_KEY", "from-the-environment")

    settings = Settings(_env_file=None, data_dir=tmp_path / "fresh")  # type: ignore[call-arg]

    assert settings.secret_key_bytes() == b"from-the-environment"
    assert not (tmp_path / "fresh" / SECRET_KEY_FILE).exists()


def test_masked_hides_every_secret(tmp_path: Path) -> None:
    settings = settings_in(
        tmp_path,
        secret_key="supersecretvalue123",
        database_url="postgresql://plyr:dbpassword456@db.example:5432/plyr",
        storage_backend="s3",
        s3_access_key_id="AKIAACCESSKEY789",
        s3_secret_access_key="s3secretkey000",
    )

    masked = settings.masked()
    shown = repr(masked)

    for secret in ("supersecretvalue123", "dbpassword456", "AKIAACCESSKEY789", "s3secretkey000"):
        assert secret not in shown
    assert masked["secret_key"] == "********"
    assert masked["s3_access_key_id"] == "********"
    assert masked["s3_secret_access_key"] == "********"
    assert masked["database_url"] == "postgresql+asyncpg://plyr:***@db.example:5432/plyr"
    # Everything else is shown as it is.
    assert masked["storage_backend"] == "s3"
    assert set(masked) == set(Settings.model_fields)


def test_masked_says_where_a_generated_key_lives(tmp_path: Path) -> None:
    masked = settings_in(tmp_path).masked()

    assert str(tmp_path / SECRET_KEY_FILE) in masked["secret_key"]
    assert masked["database_url"].startswith("sqlite+aiosqlite:///")
    assert masked["storage_local_dir"] == tmp_path / "media"


def test_secrets_do_not_leak_through_repr(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, secret_key="supersecretvalue123")

    assert "supersecretvalue123" not in repr(settings)
    assert "supersecretvalue123" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgresql://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgresql+psycopg://u:p@h/d", "postgresql+asyncpg://u:p@h/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+asyncpg://u:p@h/d", "postgresql+asyncpg://u:p@h/d"),
        ("sqlite:///relative/plyr.db", "sqlite+aiosqlite:///relative/plyr.db"),
        ("sqlite:////abs/plyr.db", "sqlite+aiosqlite:////abs/plyr.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_get_async_drivers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    assert normalise_database_url(given) == expected
    monkeypatch.setenv("PLYR_DATABASE_URL", given)
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.database_url == expected
    assert settings.effective_database_url == expected
    assert settings.is_sqlite == expected.startswith("sqlite")


def test_password_with_special_characters_survives_normalisation() -> None:
    url = normalise_database_url("postgres://u:p%40ss%2Fw@h/d")

    assert url == "postgresql+asyncpg://u:p%40ss%2Fw@h/d"
    assert mask_url_password(url) == "postgresql+asyncpg://u:***@h/d"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://u:p@h/d", "unsupported database 'mysql'"),
        ("mssql+pyodbc://h/d", "unsupported database 'mssql'"),
        ("not a url", "not a database url"),
    ],
)
def test_unsupported_databases_are_rejected_clearly(
    tmp_path: Path, url: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        settings_in(tmp_path, database_url=url)

    (error,) = caught.value.errors()
    assert error["loc"] == ("database_url",)
    assert fragment in error["msg"].lower()


def test_bad_values_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        settings_in(tmp_path, storage_backend="ftp")
    with pytest.raises(ValidationError):
        settings_in(tmp_path, port="abc")
    with pytest.raises(ValidationError):
        settings_in(tmp_path, s3_part_size=1024)  # below S3's 5 MiB multipart minimum


def test_environment_uses_the_plyr_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLYR_PORT", "9123")
    monkeypatch.setenv("PLYR_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("PLYR_JOBS_ENABLED", "false")
    monkeypatch.setenv("HOST", "192.0.2.1")  # unprefixed: not ours
    monkeypatch.setenv("DATABASE_URL", "mysql://ignored")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.port == 9123
    assert settings.data_dir == tmp_path / "from-env"
    assert settings.jobs_enabled is False
    assert settings.host == "127.0.0.1"
    assert settings.database_url is None


def test_dotenv_in_the_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path(".env").write_text(
        "PLYR_PORT=9444\n"
        "PLYR_STORAGE_BACKEND=s3\n"
        "PLYR_DATABASE_URL=postgres://u:p@h/d\n"
        "PLYR_LOG_LEVEL=DEBUG\n"
        "SOMETHING_ELSE=1\n"
    )
    monkeypatch.setenv("PLYR_LOG_LEVEL", "WARNING")  # the environment beats .env

    settings = Settings()

    assert settings.port == 9444
    assert settings.storage_backend == "s3"
    assert settings.database_url == "postgresql+asyncpg://u:p@h/d"
    assert settings.log_level == "WARNING"


def test_without_dotenv_defaults_apply() -> None:
    assert not Path(".env").exists()

    assert Settings().port == 8000


def test_public_url_follows_the_port_unless_set(tmp_path: Path) -> None:
    assert Settings(_env_file=None, port=9123).public_url == "http://127.0.0.1:9123"  # type: ignore[call-arg]
    assert Settings(_env_file=None, host="0.0.0.0", port=81).public_url == "http://127.0.0.1:81"  # type: ignore[call-arg]  # noqa: S104
    explicit = Settings(_env_file=None, port=9123, public_url="https://plyr.example/")  # type: ignore[call-arg]
    assert explicit.public_url == "https://plyr.example"
