"""Merkle Search Trees: the ordered key → CID map a repository commit signs (`data`).

A key's height is the number of leading zero bits of its SHA-256, counted in 2-bit chunks
(so about one key in four sits a layer up). The tree of a key set is fixed by the keys
alone: a node on layer h holds, in order, the keys of height h, and between them (and
before the first) a pointer to the subtree of the keys that fall in that gap, one layer
down. A gap with keys but none on the layer below still gets a node there (an empty one
that only points further down); a gap with no keys gets no pointer. The root sits on the
layer of the highest key; an empty tree is one empty node.

A node is DAG-CBOR `{l: link|null, e: [{p, k, v, t}]}`: `k` is the key with its first `p`
bytes (shared with the previous key of the node) cut off, `v` the value's CID, `t` the
subtree after the entry.

`walk` reads a whole tree from a block map and checks its shape; `root_of` builds a tree
from its entries; `PartialTree` edits a tree of which only some blocks are known (the
nodes a firehose commit carries): unknown subtrees keep their CIDs, and a step that needs
a block that is not there fails with MstError.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from plyr.atproto import dagcbor
from plyr.atproto.dagcbor import CidLink

__all__ = [
    "Entry",
    "MstError",
    "Node",
    "PartialTree",
    "common_prefix_length",
    "decode_node",
    "encode_node",
    "key_height",
    "load_node",
    "node_cid",
    "root_of",
    "walk",
]

MAX_KEY_BYTES = 1024


class MstError(ValueError):
    """A tree that is malformed, or that needs a block we do not have."""


def key_height(key: str | bytes) -> int:
    """Leading zero bits of SHA-256(key), in 2-bit chunks."""
    data = key.encode() if isinstance(key, str) else key
    digest = int.from_bytes(hashlib.sha256(data).digest(), "big")
    return (256 - digest.bit_length()) // 2


def common_prefix_length(left: str | bytes, right: str | bytes) -> int:
    """How many leading bytes two keys share."""
    a = left.encode() if isinstance(left, str) else left
    b = right.encode() if isinstance(right, str) else right
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


@dataclass(slots=True)
class Entry:
    key: str
    value: CidLink
    right: Node | CidLink | None = None


@dataclass(slots=True)
class Node:
    left: Node | CidLink | None
    entries: list[Entry]

    def child(self, index: int) -> Node | CidLink | None:
        """The subtree before entry `index` (`len(entries)`: after the last one)."""
        return self.left if index == 0 else self.entries[index - 1].right

    def with_child(self, index: int, subtree: Node | CidLink | None) -> Node:
        entries = list(self.entries)
        if index == 0:
            return Node(subtree, entries)
        before = entries[index - 1]
        entries[index - 1] = Entry(before.key, before.value, subtree)
        return Node(self.left, entries)

    def keys(self) -> list[str]:
        return [entry.key for entry in self.entries]


def _link(value: Any, what: str) -> CidLink | None:
    if value is None:
        return None
    if not isinstance(value, CidLink):
        raise MstError(f"{what} is not a link")
    return value


def decode_node(data: bytes) -> Node:
    """A node's DAG-CBOR bytes → Node (children as links), with its keys expanded."""
    try:
        raw = dagcbor.decode_record(data)
    except ValueError as exc:
        raise MstError(f"undecodable node: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) != {"l", "e"} or not isinstance(raw["e"], list):
        raise MstError("a node is a map of exactly `l` and `e` (a list)")
    left = _link(raw["l"], "`l`")
    entries: list[Entry] = []
    previous = b""
    for item in raw["e"]:
        if not isinstance(item, dict) or set(item) != {"p", "k", "v", "t"}:
            raise MstError("an entry is a map of exactly `p`, `k`, `v` and `t`")
        prefix, suffix = item["p"], item["k"]
        if not isinstance(prefix, int) or isinstance(prefix, bool) or not isinstance(suffix, bytes):
            raise MstError("an entry's `p` is an integer and its `k` a byte string")
        if not 0 <= prefix <= len(previous):
            raise MstError(f"prefix length {prefix} is longer than the previous key")
        key_bytes = previous[:prefix] + suffix
        if not key_bytes or len(key_bytes) > MAX_KEY_BYTES:
            raise MstError("a key is 1 to 1024 bytes")
        if key_bytes <= previous:
            raise MstError(f"keys out of order in a node at {key_bytes[:80]!r}")
        try:
            key = key_bytes.decode()
        except UnicodeDecodeError as exc:
            raise MstError(f"a key is not UTF-8: {key_bytes[:80]!r}") from exc
        value = _link(item["v"], "`v`")
        if value is None:
            raise MstError(f"the entry for {key} has no value")
        entries.append(Entry(key, value, _link(item["t"], "`t`")))
        previous = key_bytes
    return Node(left, entries)


def encode_node(node: Node) -> bytes:
    """A node's canonical DAG-CBOR bytes; loaded children are linked by their CID."""

    def link(subtree: Node | CidLink | None) -> CidLink | None:
        if subtree is None or isinstance(subtree, CidLink):
            return subtree
        return node_cid(subtree)

    entries: list[dict[str, Any]] = []
    previous = b""
    for entry in node.entries:
        key = entry.key.encode()
        prefix = common_prefix_length(previous, key)
        entries.append({"p": prefix, "k": key[prefix:], "v": entry.value, "t": link(entry.right)})
        previous = key
    return dagcbor.encode_ipld({"l": link(node.left), "e": entries})


def _cid_of_bytes(data: bytes) -> CidLink:
    return CidLink.from_str(dagcbor.cid_for_bytes(data, "dag-cbor"))


def node_cid(node: Node) -> CidLink:
    return _cid_of_bytes(encode_node(node))


def load_node(blocks: Mapping[CidLink, bytes], cid: CidLink) -> Node:
    data = blocks.get(cid)
    if data is None:
        raise MstError(f"missing block {cid} (a tree node)")
    return decode_node(data)


def walk(blocks: Mapping[CidLink, bytes], root: CidLink) -> Iterator[tuple[str, CidLink]]:
    """Every (key, value CID) of the tree at `root`, in key order, checking its shape:
    keys sorted across nodes, every key on the layer its height says, no empty subtree."""
    node = load_node(blocks, root)
    if not node.entries:
        if node.left is not None:
            raise MstError("the root node is empty but points to a subtree")
        return
    layer = key_height(node.entries[0].key)
    last: list[str] = []  # the previous key yielded, across nodes
    yield from _walk(blocks, node, layer, last)


def _walk(
    blocks: Mapping[CidLink, bytes], node: Node, layer: int, last: list[str]
) -> Iterator[tuple[str, CidLink]]:
    for index in range(len(node.entries) + 1):
        child = node.child(index)
        if child is not None:
            if layer == 0:
                raise MstError("a node on the bottom layer points to a subtree")
            assert isinstance(child, CidLink)
            below = load_node(blocks, child)
            if not below.entries and below.left is None:
                raise MstError(f"empty subtree {child}")
            yield from _walk(blocks, below, layer - 1, last)
        if index < len(node.entries):
            entry = node.entries[index]
            if key_height(entry.key) != layer:
                raise MstError(f"key {entry.key} is on layer {layer}, not its height")
            if last and entry.key <= last[0]:
                raise MstError(f"keys out of order at {entry.key}")
            last[:] = [entry.key]
            yield entry.key, entry.value


def root_of(
    items: Iterable[tuple[str, CidLink]], blocks: dict[CidLink, bytes] | None = None
) -> CidLink:
    """The root CID of the tree holding these (key, value) pairs (keys unique).

    Pass `blocks` to collect every node's bytes by CID.
    """
    entries = sorted((key, value, key_height(key)) for key, value in items)
    for (a, _, _), (b, _, _) in pairwise(entries):
        if a == b:
            raise MstError(f"key {a} given twice")
    store: dict[CidLink, bytes] = {} if blocks is None else blocks
    if not entries:
        return _store(Node(None, []), store)
    top = max(height for _, _, height in entries)
    root = _build(entries, top, store)
    assert root is not None
    return root


def _store(node: Node, store: dict[CidLink, bytes]) -> CidLink:
    data = encode_node(node)
    cid = _cid_of_bytes(data)
    store[cid] = data
    return cid


def _build(
    items: list[tuple[str, CidLink, int]], layer: int, store: dict[CidLink, bytes]
) -> CidLink | None:
    if not items:
        return None
    node = Node(None, [])
    gap: list[tuple[str, CidLink, int]] = []
    for key, value, height in items:
        if height == layer:
            node = node.with_child(len(node.entries), _build(gap, layer - 1, store))
            node.entries.append(Entry(key, value))
            gap = []
        else:
            gap.append((key, value, height))
    node = node.with_child(len(node.entries), _build(gap, layer - 1, store))
    return _store(node, store)


class PartialTree:
    """A tree to look up and edit when only some of its blocks are known.

    Edits load the nodes on their path (a missing one is MstError) and leave every other
    subtree as the CID it was; `root()` gives the CID of the edited tree.
    """

    def __init__(self, blocks: Mapping[CidLink, bytes], root: CidLink) -> None:
        self._blocks = blocks
        node = load_node(blocks, root)
        self._root: Node | CidLink | None = node
        self._layer = 0
        if node.entries:
            self._layer = key_height(node.entries[0].key)
        elif node.left is not None:
            raise MstError("the root node is empty but points to a subtree")
        else:
            self._root = None

    def _load(self, subtree: Node | CidLink, layer: int) -> Node:
        node = subtree if isinstance(subtree, Node) else load_node(self._blocks, subtree)
        for entry in node.entries:
            if key_height(entry.key) != layer:
                raise MstError(f"key {entry.key} is on layer {layer}, not its height")
        return node

    def get(self, key: str) -> CidLink | None:
        """The value under `key`, or None when the tree does not hold it."""
        subtree, layer = self._root, self._layer
        while subtree is not None:
            node = self._load(subtree, layer)
            index = bisect_left(node.keys(), key)
            if index < len(node.entries) and node.entries[index].key == key:
                return node.entries[index].value
            subtree, layer = node.child(index), layer - 1
        return None

    def put(self, key: str, value: CidLink) -> None:
        """Set `key` to `value`, adding the key when it is new."""
        height = key_height(key)
        if self._root is None:
            self._root, self._layer = _single(key, value, height, height), height
            return
        while height > self._layer:  # the new key goes above the root: grow upwards
            self._root, self._layer = Node(self._root, []), self._layer + 1
        self._root = self._put(self._root, self._layer, key, value, height)

    def delete(self, key: str) -> None:
        """Remove `key` (MstError when the tree does not hold it)."""
        if self._root is None:
            raise MstError(f"cannot delete {key}: the tree is empty")
        self._root = self._delete(self._root, self._layer, key, key_height(key))
        while self._root is not None:  # a root left without keys gives way to its child
            node = self._load(self._root, self._layer)
            if node.entries:
                break
            self._root, self._layer = node.left, self._layer - 1

    def root(self) -> CidLink:
        if self._root is None:
            return node_cid(Node(None, []))
        return self._root if isinstance(self._root, CidLink) else node_cid(self._root)

    def _put(
        self, subtree: Node | CidLink | None, layer: int, key: str, value: CidLink, height: int
    ) -> Node:
        if subtree is None:
            return _single(key, value, height, layer)
        node = self._load(subtree, layer)
        index = bisect_left(node.keys(), key)
        if index < len(node.entries) and node.entries[index].key == key:
            entries = list(node.entries)
            entries[index] = Entry(key, value, entries[index].right)
            return Node(node.left, entries)
        if height < layer:
            below = self._put(node.child(index), layer - 1, key, value, height)
            return node.with_child(index, below)
        left, right = self._split(node.child(index), layer - 1, key)
        node = node.with_child(index, left)
        entries = list(node.entries)
        entries.insert(index, Entry(key, value, right))
        return Node(node.left, entries)

    def _split(
        self, subtree: Node | CidLink | None, layer: int, key: str
    ) -> tuple[Node | None, Node | None]:
        """The subtree's keys below `key` and above it, as two trees on the same layer."""
        if subtree is None:
            return None, None
        node = self._load(subtree, layer)
        index = bisect_left(node.keys(), key)
        left, right = self._split(node.child(index), layer - 1, key)
        before = node.with_child(index, left)
        below = Node(before.left, before.entries[:index])
        above = Node(right, node.entries[index:])
        return _pruned(below), _pruned(above)

    def _delete(self, subtree: Node | CidLink, layer: int, key: str, height: int) -> Node | None:
        node = self._load(subtree, layer)
        index = bisect_left(node.keys(), key)
        found = index < len(node.entries) and node.entries[index].key == key
        if height == layer:
            if not found:
                raise MstError(f"cannot delete {key}: not in the tree")
            joined = self._merge(node.child(index), node.entries[index].right, layer - 1)
            node = node.with_child(index, joined)
            return _pruned(Node(node.left, node.entries[:index] + node.entries[index + 1 :]))
        child = node.child(index)
        if height > layer or child is None:
            raise MstError(f"cannot delete {key}: not in the tree")
        return _pruned(node.with_child(index, self._delete(child, layer - 1, key, height)))

    def _merge(
        self, first: Node | CidLink | None, second: Node | CidLink | None, layer: int
    ) -> Node | CidLink | None:
        """Two adjacent subtrees (every key of `first` below every key of `second`) as one."""
        if first is None:
            return second
        if second is None:
            return first
        a, b = self._load(first, layer), self._load(second, layer)
        joined = self._merge(a.child(len(a.entries)), b.left, layer - 1)
        a = a.with_child(len(a.entries), joined)
        return Node(a.left, a.entries + b.entries)


def _single(key: str, value: CidLink, height: int, layer: int) -> Node:
    """A tree on `layer` holding one key: its node, under a chain of empty ones."""
    node = Node(None, [Entry(key, value)])
    for _ in range(height, layer):
        node = Node(node, [])
    return node


def _pruned(node: Node) -> Node | None:
    return None if not node.entries and node.left is None else node
