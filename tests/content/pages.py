"""The site's pages as a reader sees their structure: sections by heading."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
STAGES = sorted((DOCS / "stages").glob("0*.md"))


def source_pages() -> list[Path]:
    """The hand-written Markdown pages (not the notebook pages tools.prebuild writes into docs/notebooks/)."""
    generated = DOCS / "notebooks"
    return sorted(p for p in DOCS.rglob("*.md") if p.parent != generated or p.name == "index.md")
SKELETON = ["学习目标", "核心知识", "推荐资源", "动手实践", "阶段评估", "常见误区", "时间安排"]


def text(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def h2_sections(markdown: str) -> dict[str, str]:
    """Map each `## heading` to the text under it (code fences removed)."""
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    parts = re.split(r"^## +(.+?)\s*$", markdown, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}
