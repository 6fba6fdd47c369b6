"""Output kept within a limit: the head and the tail, and how much of the middle was left out."""

from __future__ import annotations

import pytest

from rotation_testkit.foundations.capped_text import CappedBytes, CappedText


@pytest.mark.parametrize("pieces", [[b"a" * 10], [b"abc"] * 7, [b"0123456789" * 3, b"xyz"]])
def test_bytes_keep_head_and_tail_and_count_the_rest(pieces: list[bytes]) -> None:
    kept = CappedBytes(head=4, tail=5)
    for piece in pieces:
        kept.add(piece)
    whole = b"".join(pieces)
    text = kept.text()
    if len(whole) <= 9:
        assert text == whole.decode()
        return
    assert kept.dropped == len(whole) - 9
    assert text.startswith(whole[:4].decode())
    assert text.endswith(whole[-5:].decode())
    assert f"{len(whole) - 9} bytes of output left out" in text


def test_text_keeps_head_and_tail_across_many_small_writes() -> None:
    kept = CappedText(head=3, tail=4)
    for char in "abcdefghijklmnop":
        kept.add(char)
    assert kept.dropped == 16 - 7
    assert kept.text().startswith("abc")
    assert kept.text().endswith("mnop")
    assert "9 characters of output left out" in kept.text()


def test_short_text_is_kept_whole() -> None:
    kept = CappedText(head=3, tail=4)
    kept.add("abcdefg")
    assert kept.text() == "abcdefg"
    assert kept.dropped == 0
