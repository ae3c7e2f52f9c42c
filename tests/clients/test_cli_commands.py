"""The `plyrfm` command through its real console script, in a subprocess, against a live plyr
(web + worker) on the local ATProto network, on SQLite and PostgreSQL: sign in, upload with
every field and a progress stream, list, download byte for byte, search, like, playlists,
export. Bob does the writing, so Alice's catalogue stays as the other client tests expect."""

from __future__ import annotations

import asyncio
import json
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.clients.checks import one_error_line
from tests.clients.conftest import TokenUser
from tests.support.audio import make_audio, make_image
from tests.support.plyr_server import PlyrServer
from tests.support.plyrfm import PlyrfmRun, plyrfm_env, run_plyrfm

pytestmark = pytest.mark.browser


def ok(run: PlyrfmRun) -> PlyrfmRun:
    assert run.returncode == 0, run
    assert "Traceback" not in run.stderr, run
    return run


def parsed(run: PlyrfmRun) -> Any:
    """stdout of a --json run: JSON and nothing else."""
    return json.loads(ok(run).stdout)


async def test_login_keeps_the_token_private_then_whoami_and_logout(
    plyr: PlyrServer, bob: TokenUser, tmp_path: Path
) -> None:
    env = plyrfm_env(tmp_path)  # no PLYR_URL, no PLYR_TOKEN: only what login saves
    signed_in = ok(
        await run_plyrfm("login", "--url", plyr.url, env=env, cwd=tmp_path, stdin=bob.token + "\n")
    )
    assert f"signed in as @{bob.handle} at {plyr.url}" in signed_in.stdout
    config = tmp_path / ".config" / "plyrfm" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert json.loads(config.read_text()) == {"url": plyr.url, "token": bob.token}

    me = parsed(await run_plyrfm("whoami", "--json", env=env, cwd=tmp_path))
    assert (me["handle"], me["did"]) == (bob.handle, bob.did)
    human = ok(await run_plyrfm("whoami", env=env, cwd=tmp_path))
    assert f"@{bob.handle}" in human.stdout
    assert plyr.url in human.stdout

    ok(await run_plyrfm("logout", env=env, cwd=tmp_path))
    assert json.loads(config.read_text()) == {"url": plyr.url}
    line = one_error_line(await run_plyrfm("whoami", env=env, cwd=tmp_path), 3)
    assert "not signed in" in line or "token" in line, line


async def test_upload_every_field_then_list_show_and_download_byte_equal(
    plyr: PlyrServer, bob: TokenUser, tmp_path: Path, audio_file: Path
) -> None:
    env = plyrfm_env(tmp_path, plyr.url, bob.token)
    cover = make_image(tmp_path / "cover.png", "png")
    track = parsed(
        await run_plyrfm(
            "upload", str(audio_file), "-t", "field recording", "-t", "night, rain",
            "--title", "porch at 3am", "--album", "small hours", "--cover", str(cover),
            "--description", "crickets, mostly", "--json",
            env=env, cwd=tmp_path,
        )
    )  # fmt: skip
    assert track["publish_state"] == "published"
    assert (track["title"], track["album"]) == ("porch at 3am", "small hours")
    assert track["description"] == "crickets, mostly"
    assert set(track["tags"]) == {"field recording", "night", "rain"}
    assert track["image_url"]
    assert track["artist_did"] == bob.did

    mine = parsed(await run_plyrfm("--json", "tracks", "--mine", env=env, cwd=tmp_path))
    assert track["id"] in [t["id"] for t in mine]
    shown = ok(await run_plyrfm("track", str(track["id"]), env=env, cwd=tmp_path))
    assert "porch at 3am" in shown.stdout
    assert "small hours" in shown.stdout
    assert f"{plyr.url}/tracks/{track['id']}" in shown.stdout

    saved = parsed(  # a folder that is not there yet: the trailing slash says make it
        await run_plyrfm(
            "download", str(track["id"]), "-o", f"{tmp_path / 'out'}/", "--json",
            env=env, cwd=tmp_path,
        )
    )  # fmt: skip
    original, downloaded = audio_file.read_bytes, Path(saved["path"]).read_bytes
    assert await asyncio.to_thread(downloaded) == await asyncio.to_thread(original)
    assert Path(saved["path"]).parent == tmp_path / "out"

    # The same bytes again: the server accepts them, then processing refuses a duplicate.
    line = one_error_line(await run_plyrfm("upload", str(audio_file), env=env, cwd=tmp_path), 8)
    assert "already uploaded" in line, line


async def test_upload_prints_the_track_and_its_page(
    plyr: PlyrServer, bob: TokenUser, tmp_path: Path
) -> None:
    song = make_audio(tmp_path / "second take.flac", "flac", seconds=2.0, freq=523)
    env = plyrfm_env(tmp_path, plyr.url, bob.token)
    del env["COLUMNS"]  # piped, rich would wrap at 80 columns: the lines must stay whole
    title = "second take, " + "a long title that goes on " * 4
    run = ok(await run_plyrfm("upload", str(song), "--title", title, env=env, cwd=tmp_path))
    first, url = run.stdout.splitlines()
    assert first.startswith("published #"), run
    assert f"“{title.strip()}”" in first, run
    track_id = int(first.removeprefix("published #").split()[0])
    assert url == f"{plyr.url}/tracks/{track_id}"
    assert run.stderr == ""  # not a terminal: no progress bar drawn


async def test_catalogue_listing_search_and_likes(
    plyr: PlyrServer,
    alice: TokenUser,
    bob: TokenUser,
    catalogue: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    env = plyrfm_env(tmp_path, plyr.url, bob.token)
    ids = [t["id"] for t in catalogue]
    hers = parsed(
        await run_plyrfm("tracks", "--artist", alice.handle, "--json", env=env, cwd=tmp_path)
    )
    assert [t["id"] for t in hers if t["id"] in ids] == ids[::-1]  # newest first
    two = parsed(
        await run_plyrfm("tracks", "-a", alice.handle, "-n", "2", "--json", env=env, cwd=tmp_path)
    )
    assert two == hers[:2]

    found = parsed(await run_plyrfm("search", "harbor light", "--json", env=env, cwd=tmp_path))
    hits = [hit for group in found["groups"] for hit in group["hits"] if hit["type"] == "track"]
    assert str(ids[1]) in [hit["id"] for hit in hits]
    table = ok(await run_plyrfm("search", "morning drift", env=env, cwd=tmp_path))
    assert "morning drift" in table.stdout
    assert "track" in table.stdout

    liked = ok(await run_plyrfm("like", str(ids[0]), env=env, cwd=tmp_path))
    assert liked.stdout.startswith(f"liked #{ids[0]}")
    likes = parsed(await run_plyrfm("likes", "--json", env=env, cwd=tmp_path))
    assert likes[0]["id"] == ids[0]
    gone = parsed(await run_plyrfm("unlike", str(ids[0]), "--json", env=env, cwd=tmp_path))
    assert gone["liked"] is False
    assert gone["track_id"] == ids[0]


async def test_playlist_create_add_list_show(
    plyr: PlyrServer, bob: TokenUser, catalogue: list[dict[str, Any]], tmp_path: Path
) -> None:
    env = plyrfm_env(tmp_path, plyr.url, bob.token)
    first, second = catalogue[0], catalogue[1]
    made = parsed(
        await run_plyrfm(
            "playlist", "create", "night bus", str(first["id"]), "--json", env=env, cwd=tmp_path
        )
    )
    assert made["name"] == "night bus"
    assert made["type"] == "playlist"
    assert [e["track"]["id"] for e in made["entries"]] == [first["id"]]

    added = ok(
        await run_plyrfm(
            "playlist", "add", str(made["id"]), str(second["id"]), env=env, cwd=tmp_path
        )
    )
    assert f"playlist #{made['id']}" in added.stdout
    assert "2 tracks" in added.stdout
    assert f"{plyr.url}/playlists/{made['id']}" in added.stdout.splitlines()
    listed = parsed(await run_plyrfm("--json", "playlist", "list", env=env, cwd=tmp_path))
    assert {"id": made["id"], "item_count": 2} in [
        {"id": p["id"], "item_count": p["item_count"]} for p in listed
    ]
    shown = ok(await run_plyrfm("playlist", "show", str(made["id"]), env=env, cwd=tmp_path))
    assert shown.stdout.index(first["title"]) < shown.stdout.index(second["title"]), shown


async def test_export_writes_a_zip(plyr: PlyrServer, bob: TokenUser, tmp_path: Path) -> None:
    env = plyrfm_env(tmp_path, plyr.url, bob.token)
    saved = parsed(
        await run_plyrfm(
            "export", "-o", str(tmp_path / "backup.zip"), "--json", env=env, cwd=tmp_path
        )
    )
    assert saved["path"] == str(tmp_path / "backup.zip")
    with zipfile.ZipFile(saved["path"]) as archive:
        assert archive.testzip() is None
        assert "manifest.json" in archive.namelist()
