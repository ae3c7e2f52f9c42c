"""What runs together on one pytest-xdist worker (`--dist loadgroup`, as scripts/test runs),
and in which order the groups are handed out. Without xdist nothing here changes anything.

A package whose conftest has package-scoped fixtures (a live plyr, signed-in users) is one
group; any other module is one (module-scoped fixtures). xdist hands groups out most tests
first, which sent the few-test modules that run longest (a fuzz run, the backfill rebuild)
out last, each to finish alone. The groups below, measured longest, go out first instead;
the rest follow most tests first, as before. A stale list only costs balance, never a test.

Import the hooks into tests/conftest.py::

    from tests.support.worker_groups import (  # noqa: F401
        pytest_collection_finish,
        pytest_collection_modifyitems,
        pytest_configure,
    )
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
# Longest first: seconds of one worker for the group in a full run on two cores.
LONGEST = (
    "subsonic",  # 520
    "clients",  # 410
    "test_api_fuzz.py",  # 340
    "uploads",  # 260
    "moderation/test_scanning.py",  # 180
    "moderation/test_takedown.py",  # 140
    "signin",  # 135
    "test_ownership.py",  # 135
    "export",  # 110
    "app/test_api_track_pages.py",  # 110
    "backfill/test_rebuild.py",  # 100
    "listening",  # 100
    "moderation/test_review_ui.py",  # 100
    "test_compose_rehearsal.py",  # 90
)


def _shares_package_fixtures(package: Path) -> bool:
    conftest = package / "conftest.py"
    return conftest.is_file() and 'scope="package"' in conftest.read_text()


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "loadscopereorder", None):
        config.option.loadscopereorder = False  # the order is pytest_collection_finish's


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the marks into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shared: dict[Path, bool] = {}
    for item in items:
        path = Path(str(item.fspath)).resolve()
        parts = path.relative_to(TESTS).parts
        package = TESTS / parts[0]
        if len(parts) > 1 and shared.setdefault(package, _shares_package_fixtures(package)):
            group = parts[0]
        else:
            group = "/".join(parts)
        item.add_marker(pytest.mark.xdist_group(group))


def _group(item: pytest.Item) -> str:
    marker = item.get_closest_marker("xdist_group")
    return str(marker.args[0]) if marker else item.nodeid


@pytest.hookimpl(tryfirst=True)  # before a worker reports its collection to the controller
def pytest_collection_finish(session: pytest.Session) -> None:
    """On a worker, group by group in the order they are to be handed out; each group keeps
    the order pytest gave its tests (fixture parameters together)."""
    if not hasattr(session.config, "workerinput"):
        return
    sizes = Counter(_group(item) for item in session.items)
    first_seen: dict[str, int] = {}
    for index, item in enumerate(session.items):
        first_seen.setdefault(_group(item), index)

    def rank(item: pytest.Item) -> tuple[int, int, int]:
        group = _group(item)
        listed = LONGEST.index(group) if group in LONGEST else len(LONGEST)
        return listed, -sizes[group], first_seen[group]

    session.items.sort(key=rank)
