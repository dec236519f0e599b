"""Cursor pagination: pages, edges of the list, bad cursors and sizes."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from workflows.paging import decode_cursor, encode_cursor, paginate

ITEMS = list(range(10))


def test_pages_walk_the_list_without_gaps_or_overlap() -> None:
    seen: list[int] = []
    after = None
    while True:
        page = paginate(ITEMS, first=3, after=after)
        seen += page.items
        if not page.has_next:
            break
        after = page.cursor(len(page.items) - 1)
    assert seen == ITEMS
    assert page.has_previous and page.total == 10


def test_the_last_page_is_short_and_says_so() -> None:
    page = paginate(ITEMS, first=4, after=encode_cursor(7))
    assert page.items == [8, 9]
    assert page.has_next is False


def test_after_the_last_item_is_an_empty_page() -> None:
    page = paginate(ITEMS, first=4, after=encode_cursor(9))
    assert page.items == [] and page.has_next is False and page.total == 10


def test_an_empty_list_gives_an_empty_page() -> None:
    nothing: list[int] = []
    page = paginate(nothing, first=5, after=None)
    assert page.items == [] and not page.has_next and not page.has_previous


@pytest.mark.parametrize("cursor", ["nonsense", "", "djE6eA", encode_cursor(50)])
def test_invalid_cursors_are_clear_input_errors(cursor: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        paginate(ITEMS, first=2, after=cursor)


def test_page_size_above_the_limit_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at most 100"):
        paginate(ITEMS, first=101, after=None)
    with pytest.raises(InvalidInput, match="negative"):
        paginate(ITEMS, first=-1, after=None)


def test_cursors_round_trip() -> None:
    assert decode_cursor(encode_cursor(1234)) == 1234
