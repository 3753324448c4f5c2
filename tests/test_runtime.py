"""Process-level tuning: an optional import skipped while Altair loads, the collector paused."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys

import pytest

from cityscore.core.runtime import gc_paused, skipped_imports


@pytest.mark.slow
def test_charts_load_altair_without_the_iri_grammar_and_leave_it_importable() -> None:
    if importlib.util.find_spec("rfc3987_syntax") is None:
        pytest.skip("rfc3987_syntax is not installed here: nothing to skip")
    code = (
        "import sys, cityscore.pages.charts\n"
        "assert 'altair' in sys.modules and 'jsonschema' in sys.modules\n"
        "assert 'rfc3987_syntax' not in sys.modules, 'the grammar was built'\n"
        "import rfc3987_syntax\n"  # the user's own import still works afterwards
        "print(rfc3987_syntax.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "rfc3987_syntax"


def test_skipped_imports_leave_an_imported_module_alone() -> None:
    with skipped_imports(("json",)):
        import json  # already imported: not made absent

        assert json.dumps([1]) == "[1]"
    with skipped_imports(("cityscore_no_such_module",)):
        with pytest.raises(ImportError):
            importlib.import_module("cityscore_no_such_module")
        assert sys.modules["cityscore_no_such_module"] is None
    assert "cityscore_no_such_module" not in sys.modules


def test_gc_paused_restores_the_collector_even_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("read failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()
