"""Output kept within a size limit: its head and its tail, and how much of the middle was dropped.

A function that prints megabytes per invocation must not grow the kit's memory, the terminal or a
JUnit file with it; the start (what the function did first) and the end (how it failed) are what
a reader needs.
"""

from __future__ import annotations

from collections import deque

#: Bytes kept from the start and from the end of one invocation's output.
HEAD_BYTES = 32 * 1024
TAIL_BYTES = 32 * 1024


def dropped_note(dropped: int, unit: str = "bytes") -> str:
    return (
        f"\n[... {dropped} {unit} of output left out here: the kit keeps the first and the "
        "last 32 Ki of each invocation's output ...]\n"
    )


class CappedBytes:
    """Bytes added in order (a process's output); at most ``head + tail`` of them kept."""

    def __init__(self, head: int = HEAD_BYTES, tail: int = TAIL_BYTES) -> None:
        self._head_limit, self._tail_limit = head, tail
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data:
            return
        self._tail += data
        excess = len(self._tail) - self._tail_limit
        if excess > 0:
            del self._tail[:excess]
            self.dropped += excess

    def text(self) -> str:
        head = bytes(self._head)
        tail = bytes(self._tail)
        if not self.dropped:
            return (head + tail).decode("utf-8", "replace")
        decoded = head.decode("utf-8", "replace"), tail.decode("utf-8", "replace")
        return decoded[0] + dropped_note(self.dropped) + decoded[1]


class CappedText:
    """Text written in pieces (a function run in the kit's own process); at most ``head + tail``
    characters kept."""

    def __init__(self, head: int = HEAD_BYTES, tail: int = TAIL_BYTES) -> None:
        self._head_limit, self._tail_limit = head, tail
        self._head: list[str] = []
        self._head_size = 0
        self._tail: deque[str] = deque()
        self._tail_size = 0
        self.dropped = 0

    def add(self, text: str) -> None:
        room = self._head_limit - self._head_size
        if room > 0:
            piece = text[:room]
            self._head.append(piece)
            self._head_size += len(piece)
            text = text[room:]
        if not text:
            return
        self._tail.append(text)
        self._tail_size += len(text)
        while self._tail_size > self._tail_limit:
            excess = self._tail_size - self._tail_limit
            first = self._tail[0]
            cut = min(len(first), excess)
            if cut == len(first):
                self._tail.popleft()
            else:
                self._tail[0] = first[cut:]
            self._tail_size -= cut
            self.dropped += cut

    def text(self) -> str:
        middle = dropped_note(self.dropped, "characters") if self.dropped else ""
        return "".join(self._head) + middle + "".join(self._tail)
