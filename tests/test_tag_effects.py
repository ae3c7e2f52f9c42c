"""Tag effects' rules on real files in a folder (plyr.social.tag_effects): which files are
images to show, the include/exclude globs, matching the title's words, the stable pick and
layout, the settings, off by default, a folder that cannot be used, the still frame."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from PIL import Image

from plyr.config import Settings
from plyr.errors import ServiceError
from plyr.social import tag_effects
from plyr.social.tag_effects import choose, name_allowed, plan, read_folder, words
from tests.support.effect_images import FIRST_FRAME, effect_folder, still

SHOWN = {
    "bufo-dance.gif",
    "bufo-rain.png",
    "bufo_sleepy_night.webp",
    "bufo-coffee.jpg",
    "bigbufo_0_0.png",
    "bigbufo_1_1.png",
}


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp_path / "data", **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_words_of_titles_and_file_names() -> None:
    assert words("Rainy Night — Dance, Dance!") == {"rainy", "night", "dance"}
    assert words("bufo_sleepy_night") == {"bufo", "sleepy", "night"}
    assert words("bufoDanceParty-2") == {"bufo", "dance", "party"}
    assert words("The Song of a Frog in the Rain") == {"song", "frog", "rain"}
    assert words("ação à noite") == {"ação", "noite"}


def test_exclude_globs_and_include_overrides_them() -> None:
    exclude, include = ["bigbufo_*"], ["bigbufo_0_0"]
    assert name_allowed("bufo-rain.png", include, exclude)
    assert name_allowed("bigbufo_0_0.png", include, exclude)  # by its name without extension
    assert not name_allowed("bigbufo_1_1.png", include, exclude)
    assert not name_allowed("BIGBUFO_1_1.PNG", include, exclude)  # case does not matter
    assert not name_allowed("x.gif", [], ["*.gif"])
    assert name_allowed("x.gif", ["x*"], [])  # include alone drops nothing


def test_the_folder_lists_only_its_own_real_images(tmp_path: Path) -> None:
    folder = effect_folder(tmp_path / "frogs")
    outside = still(tmp_path / "secret.png", "PNG", (1, 2, 3, 255))
    (folder / "leak.png").symlink_to(outside)  # a link out of the folder
    (folder / "sub").mkdir()
    still(folder / "sub" / "nested.png", "PNG", (1, 2, 3, 255))
    still(folder / "renamed.gif", "PNG", (9, 9, 9, 255))  # a PNG named .gif

    found = read_folder(folder, [], [])

    assert found.problem is None
    assert set(found.images) == SHOWN | {"renamed.gif"}
    mimes = {name: image.mime for name, image in found.images.items()}
    assert mimes["bufo-dance.gif"] == "image/gif"
    assert mimes["bufo_sleepy_night.webp"] == "image/webp"
    assert mimes["bufo-coffee.jpg"] == "image/jpeg"
    assert mimes["renamed.gif"] == "image/png"  # served as what it is
    assert found.images["bufo_sleepy_night.webp"].words == {"bufo", "sleepy", "night"}

    trimmed = read_folder(folder, ["bigbufo_0_0"], ["bigbufo_*", "renamed*"])
    assert set(trimmed.images) == SHOWN - {"bigbufo_1_1.png"}


def test_a_folder_that_cannot_be_used_says_why(tmp_path: Path) -> None:
    assert "cannot read" in str(read_folder(tmp_path / "nope", [], []).problem)
    (tmp_path / "file").write_text("x")
    assert "is not a folder" in str(read_folder(tmp_path / "file", [], []).problem)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images")
    assert "holds no gif, png, webp or jpeg" in str(read_folder(empty, [], []).problem)


def test_images_sharing_the_titles_words_come_first(tmp_path: Path) -> None:
    images = read_folder(effect_folder(tmp_path / "frogs"), [], []).images.values()
    ignore = frozenset({"bufo"})

    chosen = [im.name for im in choose(images, "Rainy Night Dance", 7, 6, ignore)]

    # "dance" and "night" are whole words of two names; "rainy" shares a start with "rain".
    assert set(chosen[:2]) == {"bufo-dance.gif", "bufo_sleepy_night.webp"}
    assert chosen[2] == "bufo-rain.png"
    assert len(chosen) == 6
    # "bufo" itself (the trigger tag) is in every name and decides nothing.
    unmatched = [im.name for im in choose(images, "bufo bufo", 7, 6, ignore)]
    assert unmatched == [im.name for im in choose(images, "zzz", 7, 6, ignore)]


def test_without_a_match_the_pick_is_random_but_the_same_for_a_track(tmp_path: Path) -> None:
    images = list(read_folder(effect_folder(tmp_path / "frogs"), [], []).images.values())
    first = [im.name for im in choose(images, "no words here", 41, 2)]
    assert first == [im.name for im in choose(reversed(images), "no words here", 41, 2)]
    picks = {tuple(im.name for im in choose(images, "no words here", n, 2)) for n in range(30)}
    assert len(picks) > 5  # other tracks get other images


def test_the_layout_is_drawn_from_the_track_id(tmp_path: Path) -> None:
    images = list(read_folder(effect_folder(tmp_path / "frogs"), [], []).images.values())[:2]

    sprites = plan(12, images, 5)

    assert sprites == plan(12, images, 5)
    assert sprites != plan(13, images, 5)
    assert [s.image.name for s in sprites] == [images[i % 2].name for i in range(5)]
    assert [s.again for s in sprites] == [False, False, True, True, True]
    assert {s.direction for s in sprites} == {"left", "right"}
    for sprite in sprites:
        assert 56 <= sprite.size <= 120
        assert 8 <= sprite.top <= 80
        assert -sprite.duration <= sprite.delay <= 0
    assert plan(12, [], 5) == []


def test_settings_read_lists_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLYR_TAG_EFFECTS_TAGS", " Bufo, #Frog ,,")
    monkeypatch.setenv("PLYR_TAG_EFFECTS_EXCLUDE", '["bigbufo_*", "*-nsfw*"]')
    monkeypatch.setenv("PLYR_TAG_EFFECTS_DIR", str(tmp_path))
    settings = settings_for(tmp_path)
    assert settings.tag_effects_tags == ["bufo", "frog"]
    assert settings.tag_effects_exclude == ["bigbufo_*", "*-nsfw*"]
    assert settings.tag_effects_include == []
    assert settings.tag_effects_dir == tmp_path
    with pytest.raises(ValueError, match="tag_effects_count"):
        settings_for(tmp_path, tag_effects_count=0)


async def test_off_unless_a_folder_is_set(tmp_path: Path) -> None:
    effect_folder(tmp_path / "frogs")
    settings = settings_for(tmp_path)
    assert settings.tag_effects_dir is None
    assert settings.tag_effects_tags == ["bufo"]
    assert await tag_effects.effect_for(settings, 1, "Dance", ["bufo"]) is None
    assert await tag_effects.catalogue(settings) is None
    with pytest.raises(ServiceError) as refused:
        await tag_effects.image_named(settings, "bufo-dance.gif")
    assert refused.value.status == 404


async def test_a_tagged_track_gets_its_effect(tmp_path: Path) -> None:
    folder = effect_folder(tmp_path / "frogs")
    settings = settings_for(
        tmp_path, tag_effects_dir=folder, tag_effects_tags="bufo,frog", tag_effects_count=4
    )

    assert await tag_effects.effect_for(settings, 3, "Dance", ["swamp"]) is None
    effect = await tag_effects.effect_for(settings, 3, "Dance", ["swamp", "frog", "bufo"])

    assert effect is not None
    assert effect.tag == "frog"  # the track's first trigger tag
    assert len(effect.sprites) == 4
    assert effect.sprites[0].image.name == "bufo-dance.gif"
    assert effect.sprites[0].image.moves
    assert not any(s.again for s in effect.sprites)

    # A file added later is found: the folder's mtime changed.
    still(folder / "bufo-tango.png", "PNG", (1, 200, 1, 255))
    again = await tag_effects.effect_for(settings, 3, "Tango", ["bufo"])
    assert again is not None
    assert again.sprites[0].image.name == "bufo-tango.png"


async def test_a_missing_folder_turns_it_off_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, tag_effects_dir=tmp_path / "gone")
    with caplog.at_level(logging.WARNING, logger="plyr.social.tag_effects"):
        assert await tag_effects.effect_for(settings, 1, "Dance", ["bufo"]) is None
        assert await tag_effects.effect_for(settings, 2, "Dance", ["bufo"]) is None
    warnings = [r.getMessage() for r in caplog.records if r.name == "plyr.social.tag_effects"]
    assert len(warnings) == 1
    assert "tag effects are off" in warnings[0]
    assert "gone" in warnings[0]


async def test_the_still_is_the_first_frame_as_png(tmp_path: Path) -> None:
    folder = effect_folder(tmp_path / "frogs")
    settings = settings_for(tmp_path, tag_effects_dir=folder)
    image = await tag_effects.image_named(settings, "bufo-dance.gif")
    with Image.open(io.BytesIO(await tag_effects.image_bytes(image))) as gif:
        assert gif.n_frames == 4

    data = await tag_effects.still_png(image)

    with Image.open(io.BytesIO(data)) as png:
        assert png.format == "PNG"
        assert getattr(png, "n_frames", 1) == 1
        r, g, b, _ = png.convert("RGBA").getpixel((48, 60))  # type: ignore[misc]
    assert abs(r - FIRST_FRAME[0]) < 16
    assert g < 80
    assert b < 80
