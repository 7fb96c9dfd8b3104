"""One rendering per term, one name per notebook.

The glossary is the reference (its policy is in the header of includes/glossary/notebooks.yml): prose
writes a term as the entry's `use`, else its `term`, and never one of its `avoid` forms.  Checked here:
every hand-written page, every notebook's Markdown cells, title, short title and summary, and the
glossary's own definitions, with code, URLs and the documented exceptions taken out.  A link to a
notebook says its title, its short title or 「notebook NN」, and its first heading starts with its title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.content.pages import DOCS, source_pages
from tools import glossary, notebook_meta
from tools.glossary import GlossaryError

ROOT = DOCS.parent
ENTRIES = glossary.load()
NOTEBOOKS = {nb.stem: nb for nb in notebook_meta.load_all()}


@dataclass(frozen=True)
class Rule:
    form: str      # what prose must not write
    use: str       # what it writes instead
    term: str      # the glossary entry
    source: str    # the glossary file


RULES = [Rule(form, glossary.preferred(e), e["term"], e["source"]) for e in ENTRIES for form in e.get("avoid", [])]


# ---- what counts as prose ------------------------------------------------------------------------

FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")
INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
HTML = re.compile(r"<!--.*?-->|<[A-Za-z/][^>\n]*>", re.S)
LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]*)(?:\s+\"[^\"\n]*\")?\)")
URL = re.compile(r"https?://[^\s)>\]」，。；]+")
ITALIC = re.compile(r"(?<![*\w])\*(?![*\s])[^*\n]+?(?<![*\s])\*(?![*\w])", re.A)  # *Attention Is All You Need*
BOOK = re.compile(r"《[^》\n]*》")
PARENTHESES = re.compile(r"（[^（）\n]*）")
LATIN_PHRASE = re.compile(r"[A-Za-z][\w'.-]*(?: [A-Za-z][\w'.-]*)+", re.A)


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def _english_glosses(text: str) -> str:
    """English in full-width parentheses blanked: all of it when only Latin text is inside (句向量（Sentence
    Embedding）), else its phrases of several Latin words (（Rotary Position Embedding, RoPE；Llama 等采用）)."""
    def gloss(m: re.Match) -> str:
        return _blank(m) if m.group(0)[1:-1].isascii() else LATIN_PHRASE.sub(_blank, m.group(0))
    return PARENTHESES.sub(gloss, text)


def without_code(markdown: str) -> str:
    """Fenced blocks (except mermaid: its labels are shown to the reader) and front matter blanked, lines kept."""
    lines, fence = markdown.split("\n"), None
    if lines and lines[0] == "---" and "---" in lines[1:]:
        end = lines.index("---", 1)
        lines[: end + 1] = [""] * (end + 1)
    for i, line in enumerate(lines):
        if fence is None:
            opened = FENCE.match(line)
            if opened:
                fence = (re.compile(rf"\s*{re.escape(opened.group(1)[0])}{{{len(opened.group(1))},}}\s*"),
                         opened.group(2) == "mermaid")
                lines[i] = ""
        elif fence[0].fullmatch(line):
            fence, lines[i] = None, ""
        elif not fence[1]:
            lines[i] = ""
    return "\n".join(lines)


def prose(markdown: str) -> str:
    """The text a reader reads as Chinese prose; everything else blanked (line numbers stay)."""
    text = INLINE_CODE.sub(_blank, without_code(markdown))
    text = HTML.sub(_blank, text)

    def link(m: re.Match) -> str:
        bang, label, target = m.groups()
        if re.match(r"https?://", target):  # its text is the linked work's own title, quoted as written
            return _blank(m)
        return " " * (len(bang) + 1) + label + " " * (len(m.group(0)) - len(bang) - 1 - len(label))

    text = LINK.sub(link, text)
    for pattern in (URL, ITALIC, BOOK):
        text = pattern.sub(_blank, text)
    return text


@dataclass(frozen=True)
class Finding:
    line: int
    rule: Rule
    context: str


def _pattern(form: str) -> re.Pattern:
    if form.isascii():  # a whole word: max_new_tokens, token-level, Multi-Agent, Agents are other words
        return re.compile(rf"(?<![\w-]){re.escape(form)}(?![\w-])", re.A)
    return re.compile(re.escape(form))


def avoided_forms(markdown: str, rules: list[Rule] = RULES) -> list[Finding]:
    """Each avoided form in the prose of `markdown`, outside the documented exceptions."""
    text = prose(markdown)
    findings = []
    for rule in rules:
        # first use: the other form in the parentheses right after this one, Token（词元）, **嵌入**（Embedding）
        checked = re.sub(rf"({re.escape(rule.use)}\**)(（[^（）\n]*）)", lambda m: m.group(1) + " " * len(m.group(2)),
                         text)
        if rule.form.isascii():
            checked = _english_glosses(checked)
        for m in _pattern(rule.form).finditer(checked):
            line_start = text.rfind("\n", 0, m.start()) + 1
            line_end = text.find("\n", m.end()) % (len(text) + 1)
            context = text[max(line_start, m.start() - 15): min(line_end, m.end() + 15)].strip()
            findings.append(Finding(text.count("\n", 0, m.start()) + 1, rule, context))
    return sorted(findings, key=lambda f: f.line)


def report(where, findings: list[Finding]) -> str:
    """One line per finding; `where(line)` names the file and the line."""
    return "\n".join(f"{where(f.line)}: 「{f.rule.form}」 → write 「{f.rule.use}」 (glossary {f.rule.term}, "
                      f"{f.rule.source}): …{f.context}…" for f in findings)


# ---- the texts ----------------------------------------------------------------------------------

def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def page_texts(path: Path) -> list[tuple]:
    """(where, Markdown): `where(line)` names the place of a line."""
    return [(lambda n, rel=_rel(path): f"{rel}:{n}", path.read_text(encoding="utf-8"))]


def notebook_texts(nb) -> list[tuple]:
    """Each Markdown cell, and the metadata fields that appear as text on the site."""
    rel = _rel(nb.path)
    texts = [(lambda n, i=i: f"{rel}: cell {i}, line {n}", cell.source)
             for i, cell in enumerate(nb.nb.cells, start=1) if cell.cell_type == "markdown"]
    texts += [(lambda n, name=name: f"{rel}: metadata.llm_roadmap.{name}", value)
              for name, value in (("title", nb.title), ("short_title", nb.short_title), ("summary", nb.summary))]
    return texts


def glossary_texts(path: Path) -> list[tuple]:
    """The definition and link text of each entry, and its Chinese name unless the entry itself avoids
    a form in it (Token's zh is 词元: its glossary row reads 词元（Token）)."""
    texts, term = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        field = re.match(r"^-? +(\w+): (.*)$", line)
        if not field:
            continue
        name, value = field.groups()
        if name == "term":
            term = next(e for e in ENTRIES if e["term"] == value.strip("'\""))
        elif name in ("definition", "where") or (name == "zh" and not any(f in value for f in term.get("avoid", []))):
            texts.append((lambda n, at=f"{_rel(path)}:{number}: {term['term']}.{name}": at, value))
    return texts


SOURCES = [(_rel(p), page_texts(p)) for p in source_pages()]
SOURCES += [(_rel(nb.path), notebook_texts(nb)) for nb in NOTEBOOKS.values()]
SOURCES += [(_rel(p), glossary_texts(p)) for p in sorted((ROOT / "includes" / "glossary").glob("*.yml"))]


@pytest.mark.parametrize("texts", [t for _, t in SOURCES], ids=[name for name, _ in SOURCES])
def test_prose_writes_each_term_the_glossary_way(texts):
    problems = [report(where, findings) for where, markdown in texts if (findings := avoided_forms(markdown))]
    assert not problems, "\n" + "\n".join(problems)


# ---- notebook names -----------------------------------------------------------------------------

NOTEBOOK_TARGET = re.compile(r"(?:^|/)(\d\d-[a-z0-9-]+)\.(?:md|ipynb)$")
SHORT_NUMBER = re.compile(r"(?<![\w-])notebook (\d)(?!\d)")


def names(nb) -> set[str]:
    """How a link to the notebook may read: its title, its short title, 「notebook NN」, or 「[notebook] NN name」."""
    number = nb.stem[:2]
    plain = {nb.title} | ({nb.short_title} if nb.short_title else set())
    return plain | {f"notebook {number}", number} | {f"{p} {n}" for p in (number, f"notebook {number}") for n in plain}


def notebook_name_problems(markdown: str, notebooks: dict = NOTEBOOKS) -> list[tuple[int, str]]:
    """(line, what is wrong) for each link to a notebook that names it otherwise, and each 「notebook N」."""
    text, problems = INLINE_CODE.sub(_blank, without_code(markdown)), []
    for m in LINK.finditer(text):
        label, target = m.group(2), m.group(3)
        path, _, anchor = target.partition("#")
        stem = NOTEBOOK_TARGET.search(path)
        if not stem or stem.group(1) not in notebooks or anchor or re.match(r"https?://", target):
            continue  # not a notebook, or a section of one (its text names the section)
        nb = notebooks[stem.group(1)]
        if label not in names(nb):
            shown = f"「{nb.title}」" + (f" or 「{nb.short_title}」" if nb.short_title else "")
            problems.append((text.count("\n", 0, m.start()) + 1,
                             f"the link text 「{label}」 names {nb.stem} otherwise: write {shown} or "
                             f"「notebook {nb.stem[:2]}」 (its metadata.llm_roadmap)"))
    for m in SHORT_NUMBER.finditer(prose(markdown)):
        problems.append((text.count("\n", 0, m.start()) + 1,
                         f"「{m.group(0)}」: notebooks are numbered with two digits, 「notebook 0{m.group(1)}」"))
    return problems


NAMED = [(lambda n, rel=_rel(p): f"{rel}:{n}", p.read_text(encoding="utf-8")) for p in source_pages()]
NAMED += [(lambda n, rel=_rel(nb.path), i=i: f"{rel}: cell {i}, line {n}", cell.source) for nb in NOTEBOOKS.values()
          for i, cell in enumerate(nb.nb.cells, start=1) if cell.cell_type == "markdown"]
NAMED_IDS = [_rel(p) for p in source_pages()] + [f"{nb.stem}-cell-{i}" for nb in NOTEBOOKS.values()
                                                  for i, cell in enumerate(nb.nb.cells, start=1)
                                                  if cell.cell_type == "markdown"]


@pytest.mark.parametrize("where, markdown", NAMED, ids=NAMED_IDS)
def test_links_to_a_notebook_use_its_name(where, markdown):
    problems = notebook_name_problems(markdown)
    assert not problems, "\n" + "\n".join(f"{where(line)}: {problem}" for line, problem in problems)


def test_glossary_links_to_a_notebook_use_its_name():
    problems = [f"{e['source']}: {e['term']}: where: {problem}" for e in ENTRIES if "where" in e
                for _, problem in notebook_name_problems(f"[{e['where']}]({e['link']})")]
    assert not problems, "\n" + "\n".join(problems)


@pytest.mark.parametrize("nb", NOTEBOOKS.values(), ids=NOTEBOOKS)
def test_first_heading_is_the_title(nb):
    heading = nb.nb.cells[0].source.partition("\n")[0]
    assert heading == f"# {nb.title}" or heading.startswith(f"# {nb.title}："), (
        f"{_rel(nb.path)}: the first heading {heading!r} must be `# {nb.title}` or `# {nb.title}：subtitle` "
        "(metadata.llm_roadmap.title, also the nav and index name)")


# ---- the checks can fail ------------------------------------------------------------------------

def test_the_policy_covers_the_reviewed_terms():
    use = {rule.term: rule.use for rule in RULES}
    assert (use.get("Token"), use.get("Agent"), use.get("Embedding")) == ("Token", "智能体", "嵌入")


BAD = """\
模型每次预测一个词元。
智能体（Agent）会调用工具；RAG 和 Agent 都要评估。
`max_new_tokens` 与 Token（词元）、**嵌入**（Embedding，也叫向量表示）、句向量（Sentence Embedding）。
每个 token 都有编号，见 [针对词元级应用](https://zh.d2l.ai/x.html) 与 *Building effective agents*。
```python
agent = Agent()  # 词元
```
文本的向量表示放进向量数据库。
"""


def test_the_checker_flags_avoided_forms_and_allows_the_exceptions():
    found = [(f.line, f.rule.form, f.rule.use) for f in avoided_forms(BAD)]
    assert found == [(1, "词元", "Token"), (2, "Agent", "智能体"), (4, "token", "Token"), (8, "向量表示", "嵌入")]
    message = report(lambda n: f"docs/x.md:{n}", avoided_forms("一\n每个词元"))
    assert message.startswith("docs/x.md:2: 「词元」 → write 「Token」 (glossary Token, includes/glossary/")


def test_mermaid_labels_are_prose_and_other_code_is_not():
    text = "```mermaid\nflowchart LR\n  a[\"每个词元\"] --> b\n```\n```text\n词元\n```\n"
    assert [f.line for f in avoided_forms(text)] == [3]


def test_the_checker_flags_another_name_for_a_notebook():
    text = ("见 [从零搭建迷你 Transformer](../notebooks/02-mini-transformer.md)、"
            "[迷你 Transformer](../notebooks/02-mini-transformer.md)、[练习 6](../notebooks/02-mini-transformer.md#练习)、"
            "[notebook 03](03-bert-chinese-sentiment.ipynb)。\n第二行说 notebook 3。\n")
    (line1, first), (line2, second) = notebook_name_problems(text)
    assert line1 == 1 and first.startswith("the link text 「从零搭建迷你 Transformer」 names 02-mini-transformer")
    assert "write 「从零实现迷你 Transformer」 or 「迷你 Transformer」" in first
    assert line2 == 2 and second.startswith("「notebook 3」")


def test_the_glossary_rejects_a_policy_that_contradicts_itself(tmp_path):
    entry = ("- term: Agent\n  zh: 智能体\n  en: Agent\n  definition: 一个系统。\n  link: x.md\n"
             "  use: 智能体\n  avoid: [{}]\n")
    (tmp_path / "a.yml").write_text(entry.format("智能"), encoding="utf-8")
    with pytest.raises(GlossaryError, match=r"a.yml: entry 1 \(Agent\): avoid lists '智能'"):
        glossary.load(tmp_path)
    (tmp_path / "a.yml").write_text(entry.format("Agent") + entry.replace("Agent", "Token").replace("智能体", "词元")
                                    .format("智能体"), encoding="utf-8")
    with pytest.raises(GlossaryError, match="Token: avoids '智能体', which prose must write for Agent"):
        glossary.load(tmp_path)


def test_a_short_title_must_be_shorter_than_the_title(tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / "02-mini-transformer.ipynb", as_version=4)
    nb.metadata["llm_roadmap"]["short_title"] = nb.metadata["llm_roadmap"]["title"]
    nbformat.write(nb, tmp_path / "02-mini-transformer.ipynb")
    with pytest.raises(notebook_meta.NotebookError, match="short_title must be shorter than the title"):
        notebook_meta.load(tmp_path / "02-mini-transformer.ipynb")
