"""A Merkle tree of the shape of RFC 9162 (Certificate Transparency 2.0) section 2.1: leaf hashes
SHA-256(0x00 || leaf), interior nodes SHA-256(0x01 || left || right), the tree split at the largest power of two
smaller than its size; with inclusion and consistency proofs and their verification (sections 2.1.3 and 2.1.4).

Pure functions over lists of leaf hashes: the sealer, `concord audit verify`, the API and
scripts/verify_audit_proof.py (which carries its own copy of the verification, to need nothing of Concord) agree.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """The tree of a list of leaf hashes, with every complete aligned subtree's hash kept (twice the leaves'
    memory), so that the root of any prefix and any proof take O(log n) hashes however large the tree."""

    def __init__(self, leaves: Sequence[bytes]):
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def _hash(self, start: int, n: int) -> bytes:
        """MTH of the n leaves from `start` (RFC 9162 2.1.1); `start` is a multiple of the largest power of two
        below n, as every subtree the recursion reaches is."""
        if n & (n - 1) == 0:
            return self.levels[n.bit_length() - 1][start >> (n.bit_length() - 1)]
        k = _split(n)
        return node_hash(self._hash(start, k), self._hash(start + k, n - k))

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"no tree of size {size} in one of {self.size}")
        return self._hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf `index` in the tree of the first `size` leaves (PATH of RFC 9162 2.1.3.1)."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        proof: list[bytes] = []
        start, n = 0, size
        while n > 1:
            k = _split(n)
            if index - start < k:
                proof.append(self._hash(start + k, n - k))
                n = k
            else:
                proof.append(self._hash(start, k))
                start, n = start + k, n - k
        return proof[::-1]

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """The proof that the first `old_size` leaves' tree is a prefix of the first `size` leaves' tree (PROOF of
        RFC 9162 2.1.4.1)."""
        size = self.size if size is None else size
        if not 0 < old_size <= size <= self.size:
            raise ValueError(f"no consistency proof from size {old_size} to {size}")
        proof: list[bytes] = []
        start, m, n, complete = 0, old_size, size, True
        while m != n:
            k = _split(n)
            if m <= k:
                proof.append(self._hash(start + k, n - k))
                n = k
            else:
                proof.append(self._hash(start, k))
                start, m, n, complete = start + k, m - k, n - k, False
        if not complete:
            proof.append(self._hash(start, n))
        return proof[::-1]


def root(leaves: Sequence[bytes]) -> bytes:
    """The root hash of the tree of these leaf hashes."""
    return Tree(leaves).root()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """Whether `proof` shows the leaf hash `leaf` at `index` in a tree of `size` with root `expected_root`
    (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """Whether `proof` shows the tree (old_size, old_root) to be a prefix of (new_size, new_root) (RFC 9162
    2.1.4.2)."""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
