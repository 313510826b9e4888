"""Compact storage of a run's tests: the packing round-trips, the cache is per database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from webapp.store.testsets import case_key, pack_ids, unpack_ids


@given(st.lists(st.integers(min_value=1, max_value=2**40)))
def test_pack_round_trip(ids: list[int]) -> None:
    assert unpack_ids(pack_ids(ids)) == sorted(set(ids))


def test_packing_is_compact() -> None:
    ids = list(range(1000, 2500))
    assert len(pack_ids(ids)) < 100  # consecutive ids: one byte each before compression
    spread = list(range(1, 150_000, 100))
    assert len(pack_ids(spread)) < 2 * len(spread)


def test_case_key_separates_name_and_id() -> None:
    assert case_key("a", None) == case_key("a", "")
    assert case_key("a", "b") != case_key("a\x00b", None)
    assert case_key("a", "6f8e4436-fc96-4282-8122-e41df57197a3") != case_key("a", None)
