"""The draw's randomness: a secret seed, its published SHA-256 commitment, and a stream of numbers.

The stream is SHA-256 in counter mode, so anyone can recompute it in any language:

    block(i) = SHA-256( "polls sortition draw v1" || u64(len(seed)) || seed
                        || u64(len(public)) || public || u64(i) )        for i = 0, 1, 2, ...

where strings are UTF-8, u64 is 8 bytes big-endian, and ``public`` is public randomness revealed
at the draw from the source named when the lottery was published (committed dice rolls, a named
future lottery draw: ``polls.domain.sortition.randomness``), so that not even whoever knows the
seed could steer the draw. The blocks are read in order
as 8-byte big-endian unsigned words. ``below(m)`` returns a uniform integer in [0, m): it reads a
word u, rejects it if u >= 2**64 - (2**64 mod m), else returns u mod m.
"""

from __future__ import annotations

import hashlib
import secrets

DOMAIN = b"polls sortition draw v1"
WORD = 2**64


def new_seed() -> str:
    return secrets.token_hex(32)


def commitment(seed: str) -> str:
    """What is published before the draw: SHA-256 of the seed's UTF-8, in hex."""
    return hashlib.sha256(seed.encode()).hexdigest()


def _length_prefixed(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(8, "big") + data


class Stream:
    def __init__(self, seed: str, public: str = "") -> None:
        self.key = DOMAIN + _length_prefixed(seed) + _length_prefixed(public)
        self.counter = 0
        self.buffer = b""

    def word(self) -> int:
        if not self.buffer:
            self.buffer = hashlib.sha256(self.key + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        word, self.buffer = self.buffer[:8], self.buffer[8:]
        return int.from_bytes(word, "big")

    def below(self, m: int) -> int:
        if not 1 <= m <= WORD:
            raise ValueError(f"cannot draw below {m}")
        limit = WORD - WORD % m
        while True:
            u = self.word()
            if u < limit:
                return u % m

    def shuffle(self, items: list[str]) -> list[str]:
        """Fisher-Yates: for i from the last index down to 1, swap item i with item below(i + 1)."""
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out
