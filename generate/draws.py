"""The draws of `random.Random` the generator makes millions of times, without the standard library's checks.

Each function returns what the `Random` method it names returns, from the same bits of the same stream (the
algorithms of CPython 3.11, the version pyproject.toml pins), so the generation stays byte-identical; only the
layers of argument checking and method calls are gone. They take the stream's bound methods (`rng.random`,
`rng.getrandbits`). tests/python/test_generator.py draws both ways and compares.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

Bits = Callable[[int], int]


def below(getrandbits: Bits, n: int) -> int:
    """`Random.randrange(n)` for n > 0 (and the index `Random.choice` draws for a sequence of length n)."""
    k = n.bit_length()
    r = getrandbits(k)
    while r >= n:
        r = getrandbits(k)
    return r


def randint(getrandbits: Bits, a: int, b: int) -> int:
    """`Random.randint(a, b)` for a <= b."""
    return a + below(getrandbits, b - a + 1)


def choice(getrandbits: Bits, seq: Sequence[T]) -> T:
    """`Random.choice(seq)` for a non-empty sequence."""
    return seq[below(getrandbits, len(seq))]


class Weighted(Generic[T]):
    """`Random.choices(population, cum_weights=cum_weights)[0]`, for a population drawn from again and again."""

    __slots__ = ("cum_weights", "hi", "population", "total")

    def __init__(self, population: Sequence[T], cum_weights: Sequence[float]) -> None:
        if len(population) != len(cum_weights) or not cum_weights or cum_weights[-1] <= 0:
            raise ValueError("a weighted draw needs one positive cumulative weight per value")
        self.population = population
        self.cum_weights = cum_weights
        self.total = cum_weights[-1] + 0.0
        self.hi = len(population) - 1

    def pick(self, random: Callable[[], float]) -> T:
        return self.population[bisect_right(self.cum_weights, random() * self.total, 0, self.hi)]
