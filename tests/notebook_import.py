"""Import the definitions of a notebook, so tests check the code readers see.

Cells tagged `export` (cell metadata "tags": ["export"]) hold the reusable
pieces of a notebook: imports, functions and classes, no heavy work.  They are
executed in order in a fresh module; nothing else in the notebook runs.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def load_exports(name: str) -> types.ModuleType:
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    module = types.ModuleType(path.stem.replace("-", "_"))
    module.__file__ = str(path)
    cells = [c for c in nb.cells if c.cell_type == "code" and "export" in c.metadata.get("tags", [])]
    if not cells:
        raise LookupError(f"{name} has no cells tagged 'export'")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    for index, cell in enumerate(cells):
        if any(line.lstrip().startswith(("%", "!")) for line in cell.source.splitlines()):
            raise ValueError(f"{name}: exported cell {index} uses IPython magics; keep them out of export cells")
        exec(compile(cell.source, f"{name}[export {index}]", "exec"), module.__dict__)
    return module
