"""Merkle Search Trees against the protocol's interop fixtures (key heights, common
prefixes, the commit proofs of `firehose/commit-proof-fixtures.json`), plus round trips:
a tree built at once, built key by key and edited in any order has one root."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from plyr.atproto import dagcbor
from plyr.atproto.dagcbor import CidLink
from plyr.atproto.mst import (
    Entry,
    MstError,
    Node,
    PartialTree,
    common_prefix_length,
    decode_node,
    encode_node,
    key_height,
    root_of,
    walk,
)
from tests.support.car_files import cid_of

INTEROP = Path(__file__).parent / "fixtures" / "interop"
PROOFS = json.loads((INTEROP / "firehose" / "commit-proof-fixtures.json").read_text())
EXAMPLE_KEYS = (INTEROP / "mst" / "example_keys.txt").read_text().split()
LEAF = CidLink.from_str("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454")


def _load(name: str) -> list[dict[str, Any]]:
    return list(json.loads((INTEROP / "mst" / name).read_text()))


@pytest.mark.parametrize("case", _load("key_heights.json"), ids=lambda c: c["key"] or "empty")
def test_key_heights(case: dict[str, Any]) -> None:
    assert key_height(case["key"]) == case["height"]


@pytest.mark.parametrize("case", _load("common_prefix.json"))
def test_common_prefix(case: dict[str, Any]) -> None:
    assert common_prefix_length(case["left"], case["right"]) == case["len"]


@pytest.mark.parametrize("case", PROOFS, ids=lambda c: c["comment"])
def test_commit_proofs(case: dict[str, Any]) -> None:
    leaf = CidLink.from_str(case["leafValue"])
    before_keys = set(case["keys"])
    after_keys = (before_keys | set(case["adds"])) - (set(case["dels"]) - set(case["adds"]))
    assert str(root_of([(k, leaf) for k in before_keys])) == case["rootBeforeCommit"]
    after_blocks: dict[CidLink, bytes] = {}
    after = root_of([(k, leaf) for k in after_keys], after_blocks)
    assert str(after) == case["rootAfterCommit"]

    # Only the proof's blocks: enough to invert the commit and land on the old root.
    proof = {CidLink.from_str(c): after_blocks[CidLink.from_str(c)] for c in case["blocksInProof"]}
    tree = PartialTree(proof, after)
    for key in case["adds"]:
        assert tree.get(key) == leaf
    for key in set(case["dels"]) - set(case["adds"]):
        assert tree.get(key) is None
    for key in set(case["adds"]) - set(case["dels"]):
        tree.delete(key)
    for key in set(case["dels"]) - set(case["adds"]):
        tree.put(key, leaf)
    assert str(tree.root()) == case["rootBeforeCommit"]

    # Without a node on the ops' paths the inversion stops (some nodes the reference
    # implementation sends are not needed by ours); never does it give a wrong root.
    for missing in proof:
        short = {cid: data for cid, data in proof.items() if cid != missing}
        outcome = _invert(short, after, case, leaf)
        assert outcome == case["rootBeforeCommit"] or outcome.startswith("missing block")
        if missing == after:
            assert outcome.startswith("missing block")


def _invert(
    blocks: dict[CidLink, bytes], root: CidLink, case: dict[str, Any], leaf: CidLink
) -> str:
    """The root after undoing the case's ops, or the MstError's message."""
    try:
        tree = PartialTree(blocks, root)
        for key in set(case["adds"]) - set(case["dels"]):
            tree.delete(key)
        for key in set(case["dels"]) - set(case["adds"]):
            tree.put(key, leaf)
        return str(tree.root())
    except MstError as exc:
        return str(exc)


def _values(keys: list[str]) -> dict[str, CidLink]:
    return {key: cid_of(key.encode() + b"!") for key in keys}


def test_trees_built_at_once_and_by_edits_agree() -> None:
    rng = random.Random(16)
    values = _values(EXAMPLE_KEYS)
    blocks: dict[CidLink, bytes] = {}
    empty = root_of([], blocks)
    assert list(walk(blocks, empty)) == []

    # Key by key in a random order, from the empty tree: the same root as all at once.
    order = list(values)
    rng.shuffle(order)
    tree = PartialTree(blocks, empty)
    for key in order:
        tree.put(key, values[key])
    whole = root_of(values.items(), blocks)
    assert tree.root() == whole
    assert list(walk(blocks, whole)) == sorted(values.items())
    assert max(key_height(k) for k in values) >= 2  # a tree of several layers

    # Deleting half of them in another order lands on the tree of the rest.
    rng.shuffle(order)
    tree = PartialTree(blocks, whole)
    for key in order[: len(order) // 2]:
        tree.delete(key)
    rest = {key: values[key] for key in order[len(order) // 2 :]}
    assert tree.root() == root_of(rest.items())
    for key in order[len(order) // 2 :]:
        assert tree.get(key) == values[key]
    # ... and deleting all of them gives the empty tree back.
    for key in order[len(order) // 2 :]:
        tree.delete(key)
    assert tree.root() == empty
    with pytest.raises(MstError, match="empty"):
        tree.delete(order[0])

    # Updating a value changes only that entry.
    tree = PartialTree(blocks, whole)
    tree.put(order[0], LEAF)
    assert tree.root() == root_of({**values, order[0]: LEAF}.items())
    with pytest.raises(MstError, match="not in the tree"):
        PartialTree(blocks, root_of(rest.items(), blocks)).delete(order[0])


def test_nodes_round_trip_with_prefix_compression() -> None:
    keys = ["fm.plyr.like/3kaaaaaaaaa22", "fm.plyr.like/3kaaaaaaaab22", "fm.plyr.list/3kzzz"]
    node = Node(LEAF, [Entry(key, LEAF, LEAF if i == 1 else None) for i, key in enumerate(keys)])
    data = encode_node(node)
    assert decode_node(data) == node
    assert data.count(b"fm.plyr.") == 1  # the later keys carry only what differs


def _entry(prefix: int, suffix: bytes, **extra: Any) -> dict[str, Any]:
    return {"p": prefix, "k": suffix, "v": LEAF, "t": None, **extra}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"l": None, "e": [_entry(0, b"b"), _entry(0, b"a")]}, "out of order"),
        ({"l": None, "e": [_entry(3, b"abc")]}, "prefix length"),
        ({"l": None, "e": [_entry(0, b"a", x=1)]}, "exactly"),
        ({"l": None, "e": [_entry(0, b"")]}, "1 to 1024 bytes"),
        ({"l": None, "e": [_entry(0, b"\xff")]}, "not UTF-8"),
        ({"l": "bafy", "e": []}, "not a link"),
        ({"e": []}, "exactly"),
    ],
)
def test_malformed_nodes_are_refused(raw: dict[str, Any], reason: str) -> None:
    with pytest.raises(MstError, match=reason):
        decode_node(dagcbor.encode_ipld(raw))


def _tree(nodes: list[Node]) -> tuple[dict[CidLink, bytes], CidLink]:
    """Blocks of hand-made nodes; the last one is the root."""
    blocks = {cid_of(encode_node(node)): encode_node(node) for node in nodes}
    return blocks, cid_of(encode_node(nodes[-1]))


def test_malformed_trees_fail_the_walk() -> None:
    # The example keys name their height: "B1/..." is on layer 1, "C0/..." on layer 0.
    def node(*keys: str, left: Node | None = None, right: Node | None = None) -> Node:
        def link(n: Node | None) -> CidLink | None:
            return cid_of(encode_node(n)) if n is not None else None

        entries = [Entry(key, LEAF) for key in keys]
        entries[-1].right = link(right)
        return Node(link(left), entries)

    a0, b1, c0, a1 = "A0/374913", "B1/986427", "C0/451630", "A1/076595"
    good_leaf = node(a0)
    blocks, root = _tree([good_leaf, node(b1, left=good_leaf)])
    assert [key for key, _ in walk(blocks, root)] == [a0, b1]

    cases = [
        ([node(c0), node(b1, left=node(c0))], "out of order"),
        ([node(a1), node(b1, left=node(a1))], "not its height"),
        ([node(a0), node(c0, right=node(a0))], "bottom layer"),
        (
            [Node(None, []), Node(cid_of(encode_node(Node(None, []))), [Entry(b1, LEAF)])],
            "empty subtree",
        ),
        ([good_leaf, Node(cid_of(encode_node(good_leaf)), [])], "root node is empty"),
    ]
    for nodes, reason in cases:
        blocks, root = _tree(nodes)
        with pytest.raises(MstError, match=reason):
            list(walk(blocks, root))
    # A node missing.
    blocks, root = _tree([good_leaf, node(b1, left=good_leaf)])
    del blocks[cid_of(encode_node(good_leaf))]
    with pytest.raises(MstError, match="missing block"):
        list(walk(blocks, root))
    with pytest.raises(MstError, match="missing block"):
        PartialTree(blocks, root).get(a0)
    assert PartialTree(blocks, root).get(b1) == LEAF  # the path to it is there
