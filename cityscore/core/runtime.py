"""Process-level costs the kit keeps down: an optional import skipped, the garbage collector's walks.

Measured on this kit's paths (``benchmarks/README.md``): jsonschema, under Altair and nbformat,
imports ``rfc3987_syntax`` when it is installed (JupyterLab's extras install it) and builds its IRI
grammar for 1.6-2 s, only to check an "iri" format the kit never uses. And CPython's cyclic garbage
collector, triggered by every 700 new container objects, walks the whole heap from time to time:
a large read creates hundreds of thousands of row tuples, none of which can form a cycle.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SKIP_IMPORTS = ("rfc3987_syntax",)


@contextmanager
def skipped_imports(names: tuple[str, ...] = SKIP_IMPORTS) -> Iterator[None]:
    """Inside the block, ``import`` of ``names`` raises ImportError (a ``None`` entry in
    ``sys.modules``), which jsonschema takes as "not installed"; afterwards they import as usual.

    A module already imported is left as it is.
    """
    added = [name for name in names if name not in sys.modules]
    for name in added:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in added:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (reference counting still frees everything
    at once), and back to what it was after. For loops that make many objects and no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def settle_imports() -> None:
    """Move every object alive now (the imported modules, a few hundred thousand objects that live
    as long as the process) out of the collector's walks: for a command line run, once its imports
    are done. Garbage is collected first (30 ms), so none is frozen where it could never be freed
    (``cli.main`` may run many times in one process: tests, a script)."""
    gc.collect()
    gc.freeze()
