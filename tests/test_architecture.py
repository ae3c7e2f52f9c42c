"""The shape of the code stays as docs/architecture.md draws it: no import circles anywhere,
arrows pointing down the layers, the HTTP surfaces apart, and no file grown past ~400 lines
without its docstring saying why it is one piece.

`lint-imports` (scripts/test) checks the contracts in pyproject.toml; these tests check what
it does not (a cycle through a package's `__init__`, the docs naming the same layers) and
prove that the checks can fail.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
# Say this in a file's first docstring or comment to keep a longer file whole.
ONE_PIECE = "one piece"
CHECKED_SUFFIXES = {".py", ".js", ".css"}
OPENING_CHARS = 2000  # where a file's docstring or opening comment says what it is


def import_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every set of modules that import each other in a circle (Tarjan's strongly connected
    components with more than one module, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        # Iterative, so a deep import chain cannot hit the recursion limit.
        work: list[tuple[str, Iterable[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            advanced = False
            for target in targets:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def module_graph(package: str) -> dict[str, set[str]]:
    graph = grimp.build_graph(package, cache_dir=None)
    return {
        module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules
    }


def test_the_cycle_finder_finds_circles_and_nothing_else() -> None:
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"a"}}) == [["a"]]
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"b", "c"}}) == []
    # Two circles sharing nothing are two findings.
    assert sorted(import_cycles({"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"x"}})) == [
        ["a", "b"],
        ["x", "y"],
    ]


@pytest.mark.parametrize("package", ["plyr", "plyrfm"])
def test_no_import_circle(package: str) -> None:
    """Any module-level circle in plyr or its SDK, including one through a package's
    `__init__` and imports made inside functions, which lint-imports' sibling check does
    not see."""
    assert import_cycles(module_graph(package)) == []


def test_a_circle_in_real_code_is_found(tmp_path: Path) -> None:
    """The check reads real source: a package whose modules import each other (one of them
    inside a function) is caught."""
    package = tmp_path / "circular"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "one.py").write_text("from circular import two\n")
    (package / "two.py").write_text(
        textwrap.dedent(
            """
            def later() -> None:
                from circular import one  # hidden in a function, still a circle
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:
        assert import_cycles(module_graph("circular")) == [["circular.one", "circular.two"]]
    finally:
        sys.path.remove(str(tmp_path))


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _documented_layers() -> list[str]:
    """The layer lines of the first code block under "## Layers" in docs/architecture.md:
    `name | name …` before the description (two or more spaces)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Layers", 1)[1]
    block = section.split("```", 2)[1]
    layers = []
    for line in block.splitlines()[1:]:
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        if names and not set(names) <= set("│|▲▼ "):
            layers.append(" | ".join(part.strip() for part in names.split("|")))
    return layers


def test_the_documented_layers_are_the_checked_ones() -> None:
    contract = next(c for c in _contracts() if c["containers"] == ["plyr"])
    layers = contract["layers"]
    assert isinstance(layers, list)
    assert _documented_layers() == [f"plyr.{layer}".replace(" | ", " | plyr.") for layer in layers]


def test_lint_imports_refuses_an_upward_import(tmp_path: Path) -> None:
    """The same kind of contract as pyproject's, on a package that breaks it: lint-imports
    exits non-zero and names the import."""
    package = tmp_path / "layered"
    (package / "low").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "high.py").write_text("")
    (package / "low" / "__init__.py").write_text("from layered import high\n")
    (tmp_path / ".importlinter").write_text(
        textwrap.dedent(
            """
            [importlinter]
            root_package = layered

            [importlinter:contract:layers]
            name = arrows point down
            type = layers
            containers = layered
            layers =
                high
                low
            """
        )
    )
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "layered.low -> layered.high" in result.stdout


def _source_files() -> list[Path]:
    roots = [
        ROOT / "src" / "plyr",
        ROOT / "clients",
        ROOT / "bench",
        ROOT / "tests",
        ROOT / "scripts",
    ]
    return sorted(
        path
        for root in roots
        for path in root.rglob("*")
        if path.suffix in CHECKED_SUFFIXES
        and "node_modules" not in path.parts
        and "migrations" not in path.parts
    )


def test_no_file_grew_past_the_limit_without_saying_why() -> None:
    """Split by concept past ~400 lines (a tenth of slack for the ~), or say in the file's
    opening docstring or comment why it must be one piece."""
    too_long = []
    for path in _source_files():
        text = path.read_text()
        lines = text.count("\n")
        if lines > MAX_LINES * 1.1 and ONE_PIECE not in text[:OPENING_CHARS].lower():
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert too_long == []
