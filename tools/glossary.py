"""The site-wide glossary: includes/glossary/*.yml, one file per area, merged.

From it the prebuild step writes three plain files that any Markdown site
generator can use (see tools/prebuild.py):

- the glossary page's body (a bar of letters, a heading and a table per letter, the terms
  in pinyin order), included by docs/glossary.md as a snippet;
- the abbreviation list (`*[LoRA]: ...`), appended to every page by
  pymdownx.snippets `auto_append`, which gives Latin terms their tooltips;
- the jieba user dictionary for the search index: every Chinese glossary term
  plus the short hand-kept list in includes/jieba_extra_words.txt;
- one search entry per term (its row's anchor, name and explanation), which the
  site generator adds to its search index: the table alone is one unsearchable
  wall of text in a result.

It also holds the writing policy for terms with competing forms: prose writes
`preferred(entry)` (the entry's `use`, else its `term`) and none of its `avoid`
forms; tests/content/test_terms.py checks every page and notebook against it.

Errors name the YAML file and the term, never the page that includes them.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import yaml
from pypinyin import lazy_pinyin

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY_DIR = ROOT / "includes" / "glossary"
EXTRA_WORDS = ROOT / "includes" / "jieba_extra_words.txt"
REQUIRED = ("term", "zh", "en", "definition", "link")
OPTIONAL = ("where", "aliases", "use", "avoid")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Terms whose characters pypinyin reads the wrong way (重 is zhòng in 重要, chóng in 重排; 长 is
# cháng in 最长): when a new term has a polyphone, check where the glossary page files it.
PINYIN = {"重排": "chong pai", "最长公共子序列": "zui chang gong gong zi xu lie"}
# jieba reads "word freq tag" per line: a word must not contain spaces or punctuation.
JIEBA_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]+$")


class GlossaryError(ValueError):
    """A glossary file is malformed; the message names the file and the term."""


def _where(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def load(glossary_dir: Path = GLOSSARY_DIR) -> list[dict]:
    """Every entry of every *.yml file, checked: required fields, known fields, unique terms."""
    entries, seen = [], {}
    files = sorted(Path(glossary_dir).glob("*.yml"))
    if not files:
        raise GlossaryError(f"no glossary files in {_where(Path(glossary_dir))}")
    for path in files:
        where = _where(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise GlossaryError(f"{where}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from exc
        if data is None:
            continue
        if not isinstance(data, list):
            raise GlossaryError(f"{where}: expected a list of entries (`- term: ...`), got {type(data).__name__}")
        for index, entry in enumerate(data, start=1):
            name = entry.get("term") if isinstance(entry, dict) else None
            label = f"{where}: entry {index}" + (f" ({name})" if name else "")
            if not isinstance(entry, dict):
                raise GlossaryError(f"{label}: expected `key: value` fields, got {entry!r}")
            missing = [f for f in REQUIRED if not str(entry.get(f) or "").strip()]
            if missing:
                raise GlossaryError(f"{label}: missing or empty field(s) {', '.join(missing)}")
            unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
            if unknown:
                raise GlossaryError(f"{label}: unknown field(s) {', '.join(unknown)} (allowed: "
                                    f"{', '.join(REQUIRED + OPTIONAL)})")
            aliases = entry.get("aliases", [])
            if not isinstance(aliases, list):
                raise GlossaryError(f"{label}: aliases must be a list, e.g. [LLMOps]")
            _check_policy(entry, label)
            key = str(entry["term"]).lower()
            if key in seen:
                raise GlossaryError(f"{label}: the term {entry['term']!r} is already defined in {seen[key]}")
            seen[key] = where
            entries.append({**{k: str(v) if k not in ("aliases", "avoid") else [str(a) for a in v]
                                for k, v in entry.items()}, "source": where})
    forms = {preferred(entry): entry for entry in entries}
    for entry in entries:
        for form in entry.get("avoid", []):
            if form in forms and forms[form] is not entry:
                raise GlossaryError(f"{entry['source']}: {entry['term']}: avoids {form!r}, which prose must write "
                                    f"for {forms[form]['term']} ({forms[form]['source']})")
    return entries


def _check_policy(entry: dict, label: str) -> None:
    """`use` is one non-empty form; `avoid` lists forms that differ from it and do not occur in it."""
    if "use" in entry and (not isinstance(entry["use"], str) or not entry["use"].strip()):
        raise GlossaryError(f"{label}: use must be the one form prose writes, e.g. use: 智能体")
    avoid = entry.get("avoid", [])
    if "avoid" in entry and not (isinstance(avoid, list) and avoid
                                 and all(isinstance(a, str) and a.strip() for a in avoid)):
        raise GlossaryError(f"{label}: avoid must be a non-empty list of forms, e.g. [词元, token]")
    form = preferred(entry)
    clashes = [a for a in avoid if a in form]
    if clashes:
        raise GlossaryError(f"{label}: avoid lists {', '.join(map(repr, clashes))}, which is (part of) the "
                            f"form prose writes, {form!r}")


def preferred(entry: dict) -> str:
    """How prose writes the term: the entry's `use`, else its `term`."""
    return str(entry.get("use") or entry["term"])


def abbreviations(entries: list[dict]) -> str:
    """`*[TERM]: ...` lines for Python-Markdown's abbr extension (Latin terms only:
    abbr matches on word boundaries, which Chinese text does not have)."""
    lines = []
    for entry in entries:
        for term in [entry["term"], *entry.get("aliases", [])]:
            if term.isascii():
                lines.append(f"*[{term}]: {tooltip_name(entry)}：{entry['definition']}")
    return "\n".join(lines) + "\n"


def tooltip_name(entry: dict) -> str:
    """低秩适配（LoRA）; a name without a Chinese form once: PyTorch, not PyTorch（PyTorch）."""
    same = entry["zh"].casefold() == entry["en"].casefold()
    return entry["zh"] if same else f"{entry['zh']}（{entry['en']}）"


def row_id(name: str) -> str:
    """The id of a term's row on the glossary page (also for each alias): term-lora, term-检索增强生成."""
    return "term-" + re.sub(r"[^\w\u4e00-\u9fff]+", "-", name.strip().lower()).strip("-")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # e.g. P(y|x)


def display_name(entry: dict) -> str:
    """The name in the table's first column: 低秩适配（LoRA）, or the term alone when it is Chinese."""
    return entry["term"] if entry["term"] == entry["zh"] else f"{entry['zh']}（{entry['term']}）"


def spelled(entry: dict) -> tuple[str, ...]:
    """How the term sorts: syllable by syllable, as a Chinese dictionary does (互相关 hu before
    滑动 hua), Chinese in pinyin without tones, Latin words in lower case.
    注意力 → (zhu, yi, li), LoRA → (lora,), 下一个 Token 预测 → (xia, yi, ge, token, yu, ce)."""
    term = entry["term"]
    pieces = PINYIN[term].split() if term in PINYIN else lazy_pinyin(term)
    return tuple(word.lower() for piece in pieces for word in piece.split())


def letter(entry: dict) -> str:
    """The letter a term is filed under: A～Z, Chinese by its pinyin, as phones list contacts."""
    first = spelled(entry)[0][:1].upper()
    return first if "A" <= first <= "Z" else "#"


def in_table_order(entries: list[dict]) -> list[dict]:
    """The glossary page's row order: Latin and Chinese terms together, by spelled()."""
    return sorted(entries, key=lambda e: (spelled(e), e["term"]))


def letter_id(letter: str) -> str:
    return f"letter-{letter.lower()}" if letter != "#" else "letter-other"


def table(entries: list[dict]) -> str:
    """The glossary page's body: a bar of the letters, then a heading and a table per letter
    (the headings are the page's table of contents).  Links are relative to docs/glossary.md.
    The tables are left out of the page's own search entry: each term is an entry of its own
    (search_entries)."""
    groups = [(key, list(rows)) for key, rows in itertools.groupby(in_table_order(entries), key=letter)]
    bar = " ".join(f"[{key}](#{letter_id(key)})" for key, _ in groups)
    parts = [f'<nav class="glossary-letters" aria-label="按首字母跳转" markdown>{bar}</nav>']
    for key, rows in groups:
        parts += ["", f"## {key} {{ #{letter_id(key)} data-search-exclude }}", "",
                  '<div class="glossary-table" markdown data-search-exclude>', "",
                  "| 术语 | 英文 | 一句话解释 | 详见 |", "| --- | --- | --- | --- |"]
        for entry in rows:
            target, _, anchor = entry["link"].partition("#")
            href = f"{target}#{anchor}" if anchor else target
            name = display_name(entry)
            where = entry.get("where", "正文")
            # an id per spelling, so that a tooltip's link lands on this row (tools/glossary.py: row_id)
            ids = "".join(f'<span id="{row_id(n)}"></span>' for n in dict.fromkeys([entry["term"], *entry.get("aliases", [])]))
            parts.append(f"| {ids}{_cell(name)} | {_cell(entry['en'])} | {_cell(entry['definition'])} | "
                         f"[{_cell(where)}]({href}) |")
        parts += ["", "</div>"]
    return "\n".join(parts) + "\n"


def search_entries(entries: list[dict]) -> list[dict]:
    """One search entry per term, in the table's order: the anchor of its row on the glossary
    page, its name as the row shows it, and the row's text (English name, explanation, where
    the site explains it).  Plain text: the generator's search step segments the Chinese."""
    return [{"anchor": row_id(entry["term"]), "title": display_name(entry),
             "text": f"{entry['en']}：{entry['definition']}（详见{entry.get('where', '正文')}）"}
            for entry in in_table_order(entries)]


def chinese_terms(entries: list[dict]) -> list[str]:
    """Chinese names in the glossary that jieba can take as single words."""
    words = []
    for entry in entries:
        for name in [entry["zh"], entry["term"], *entry.get("aliases", [])]:
            if CJK.search(name) and JIEBA_WORD.match(name) and name not in words:
                words.append(name)
    return words


def extra_words(path: Path = EXTRA_WORDS) -> list[str]:
    """The hand-kept words: one per line, # comments allowed."""
    words = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        word = line.split("#", 1)[0].strip()
        if not word:
            continue
        if not JIEBA_WORD.match(word):
            raise GlossaryError(f"{_where(path)}: line {number}: {word!r} is not one word "
                                "(no spaces or punctuation)")
        words.append(word)
    return words


def jieba_dictionary(entries: list[dict], extra: list[str]) -> str:
    """jieba's user dictionary format: `word frequency`; a high frequency keeps the word whole."""
    words = list(dict.fromkeys([*chinese_terms(entries), *extra]))
    return "".join(f"{word} 2000\n" for word in words)
