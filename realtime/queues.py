"""Queues between pipeline threads that never block past a stop request.

* :class:`BlockingQueue` (file mode): bounded FIFO; a full queue makes the
  producer wait (back-pressure), nothing is lost.
* :class:`LatestQueue` (live mode): holds at most one item; a new item replaces
  an unread one, which is counted as dropped, so the consumer always gets the
  newest frame.

Both end with :meth:`close` (after which ``get`` returns :data:`END` once the
queue is drained) and give up with :class:`Stopped` when the shared stop
event is set, so no thread can hang on a queue.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable, Optional

END = object()  #: returned by ``get`` after ``close`` once every item was taken
EMPTY = object()  #: returned by ``get(timeout=...)`` when nothing arrived in time


class Stopped(Exception):
    """Raised by ``put``/``get`` when the pipeline's stop event is set."""


class BlockingQueue:
    """Bounded FIFO with back-pressure.

    Args:
        maxsize: capacity (>= 1).
        stop: event that aborts waiting ``put``/``get`` calls with :class:`Stopped`.
    """

    def __init__(self, maxsize: int, stop: threading.Event) -> None:
        self._items: collections.deque = collections.deque()
        self._maxsize = max(1, int(maxsize))
        self._cond = threading.Condition()
        self._closed = False
        self._stop = stop

    def put(self, item: Any) -> None:
        with self._cond:
            while len(self._items) >= self._maxsize:
                if self._stop.is_set():
                    raise Stopped
                self._cond.wait(0.05)
            if self._stop.is_set():
                raise Stopped
            self._items.append(item)
            self._cond.notify_all()

    def get(self, timeout: Optional[float] = None) -> Any:
        """The next item; :data:`END` once closed and drained; :data:`EMPTY` when ``timeout``
        seconds pass with nothing to take (``None``: wait until an item, the end or a stop)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._items:
                if self._stop.is_set():
                    raise Stopped
                if self._closed:
                    return END
                if deadline is not None and time.monotonic() >= deadline:
                    return EMPTY
                self._cond.wait(0.05)
            item = self._items.popleft()
            self._cond.notify_all()
            return item

    def close(self) -> None:
        """No more items will be put; ``get`` returns :data:`END` once drained."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        return len(self._items)


class LatestQueue(BlockingQueue):
    """One-slot queue where the newest item wins.

    Args:
        stop: see :class:`BlockingQueue`.
        on_drop: called with the number of items discarded (``PipelineStats.count_dropped``).
    """

    def __init__(self, stop: threading.Event, on_drop: Optional[Callable[[int], None]] = None) -> None:
        super().__init__(1, stop)
        self._on_drop = on_drop

    def put(self, item: Any) -> None:
        with self._cond:
            if self._stop.is_set():
                raise Stopped
            dropped = len(self._items)
            self._items.clear()
            self._items.append(item)
            self._cond.notify_all()
        if dropped and self._on_drop is not None:
            self._on_drop(dropped)
