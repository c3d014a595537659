"""pseudonym(): the keyed hash the project's stream maps call."""

from __future__ import annotations

import pytest
from singer_batch_msgspec.stream_maps import pseudonym


def test_case_and_spaces_do_not_make_another_person() -> None:
    assert pseudonym("k", "  Ada@Example.COM ") == pseudonym("k", "ada@example.com")


def test_another_key_gives_another_pseudonym_and_blank_gives_none() -> None:
    assert pseudonym("k1", "ada@example.com") != pseudonym("k2", "ada@example.com")
    assert len(pseudonym("k", "ada@example.com") or "") == 64
    assert pseudonym("k", "  ") is None and pseudonym("k", None) is None


def test_no_key_is_an_error_not_an_unkeyed_hash() -> None:
    with pytest.raises(ValueError, match="pseudonym_key"):
        pseudonym("", "ada@example.com")
