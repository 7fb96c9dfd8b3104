"""Python shown on the pages is at least valid Python (the long code lives in notebooks)."""

import re

import pytest

from tests.content.pages import DOCS, source_pages

BLOCK = re.compile(r"^( *)```python[^\n]*\n(.*?)^\1```", re.M | re.S)
BLOCKS = [(page, i, m[2]) for page in source_pages()
          for i, m in enumerate(BLOCK.finditer(page.read_text(encoding="utf-8")))]


def dedent(code, indent):
    return "\n".join(line[indent:] for line in code.splitlines())


@pytest.mark.parametrize("page,index,code", BLOCKS, ids=[f"{p.relative_to(DOCS)}#{i}" for p, i, _ in BLOCKS])
def test_python_block_compiles(page, index, code):
    indent = len(code) - len(code.lstrip(" "))
    compile(dedent(code, indent), f"{page.name}[{index}]", "exec")
