"""Running a coroutine from a synchronous test, whatever else shares the thread."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run the coroutine to its end on a fresh event loop in its own thread.

    Playwright's sync API keeps an event loop running in the main thread of a pytest worker once
    a browser test has run there, and asyncio.run() refuses to start beside it; a thread of its
    own makes the result independent of which tests the worker ran before.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
