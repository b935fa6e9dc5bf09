"""Changes this process writes, told at once to its own caches; other processes see them when their caches expire."""

import threading
import weakref
from collections.abc import Callable


class LocalChanges:
    """Calls the listening methods with the key of every change announced in this process."""

    def __init__(self) -> None:
        self._listeners: list[weakref.WeakMethod] = []
        self._lock = threading.Lock()

    def listen(self, method: Callable[[str], None]) -> None:
        """Call a bound method with each announced key for as long as its object lives (held weakly)."""
        with self._lock:
            self._listeners = [ref for ref in self._listeners if ref() is not None]
            self._listeners.append(weakref.WeakMethod(method))  # type: ignore[arg-type]

    def announce(self, key: str) -> None:
        """Tell every live listener that the record under key changed (call it after the write returned)."""
        with self._lock:
            methods = [method for ref in self._listeners if (method := ref()) is not None]
        for method in methods:
            method(key)
