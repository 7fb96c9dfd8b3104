"""Exact-text patches to Material's built assets, applied after every build.

Each patch names the file (a glob under the site directory), the exact minified text
it replaces, and why.  If Material changes and a text is not found exactly once, the
build stops and says which patch to review: a patch never applies half-way.

Three kinds:

- search: Material 9.8's query segmenter never tries a word ending at the last
  character of the query, so 学习率 searched 学习 (tests/site/test_search.py); and a
  typed word the index holds as pieces (扩散模型, top-p, KV缓存) was searched as any
  one of them, or not at all: now as all of them (tests/site/test_search_queries.py).
- navigation: a link to another page's #section must land on it: Material's instant
  navigation noted a scroll made just before the click in the next page's history
  entry and then opened that page at the old offset; and it scrolled before the section was in the
  document, or while a phone's search overlay still locked the scroll (tests/site/test_real_address.py).
- page load: on every page view Material's bundle made the browser restyle every
  element of the page three extra times (measured in Chromium traces: about a third
  of the main-thread time of a notebook page on a phone).  The palette component set
  and removed `data-md-color-switching` on <body>, which a rule `[...switching] *`
  turns into a restyle of everything; it appended an empty <meta name=color-scheme>
  and then set it, and each change of that meta restyles the page; and instant
  navigation rewrote the href of the page's own stylesheets, which makes the browser
  swap the sheets (they keep their href now, and instant navigation compares stylesheets
  by full address: else its first click swapped them all and scrolled an unstyled page).
  overrides/main.html declares the color-scheme meta in <head>, with the stored scheme,
  so the bundle finds it already right.  And it moved every plain
  table into a scroll wrapper after the page was styled, which a rule
  `table:not([class]) + *` turns into a restyle of the whole article: the build writes
  the wrapper (wrap_tables, from the hook's on_page_content) and the bundle skips
  tables that have it.  Finally, code blocks lose the spans that change nothing on
  screen (Pygments' names, coloured with the code's own colour, and whitespace): about
  a quarter of a notebook page's elements (unwrap_plain_code_spans).  Material put each code
  block's copy button in and then measured the block, block after block, so that the browser
  laid out the page once per code block while mounting it, and each insertion restyled the
  whole block: the build writes the (empty) button bar (code_nav) and the bundle fills it
  after every block is measured.  And it set up every content tooltip (about 250 on a stage page,
  140 of them glossary terms) at start, the largest part of its start-up there: each is now set up when
  the reader first points at, touches or focuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class PatchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Patch:
    files: str   # glob under the site directory; exactly one file must match
    old: str
    new: str
    why: str


# Words that ask rather than name what is sought, and particles: a question finds the pages that have its
# other words, not only those that also say 怎么办 (the search patch below).
QUESTION_WORDS = ("怎么办 怎么样 怎么 怎样 如何 为什么 为何 什么 哪些 哪个 哪里 哪儿 是否 能否 能不能 可以 "
                  "请问 吗 呢 吧 啊 的 了 是 有 要").split()

PATCHES = [
    # Material 9.8's query segmenter (src/.../query/segment): the piece may end at the last
    # character (<=), and a piece may start there.
    Patch("assets/javascripts/workers/search.*.min.js",
          "for(let o=s+1;o<t.length;o++)", "for(let o=s+1;o<=t.length;o++)",
          "Chinese queries keep their last character"),
    Patch("assets/javascripts/workers/search.*.min.js",
          "n[a]&&a<t.length-1&&", "n[a]&&a<t.length&&",
          "Chinese queries keep their last character"),
    # A word the reader typed is one thing to find, even when the index holds it as several pieces:
    # 扩散模型 is indexed as 扩散 + 模型, top-p as top + p, KV缓存 as kv + 缓存.  Material searched the
    # pieces as alternatives, so the sections titled with the commonest piece (模型, p) came first,
    # and a word mixing Latin letters and Chinese characters (KV缓存) was searched whole and found
    # nothing.  Now each typed word is cut at the index's separators, between Latin letters and Chinese
    # characters, and each Chinese run into the fewest words of the index that make it up; every piece
    # is required (+piece*).  When that finds nothing, the question words and particles among the pieces
    # (QUESTION_WORDS) are no longer required, only counted: 显存不够怎么办 finds the sections about 显存
    # and 不够 (no page has all three words), 如何部署模型 those about 部署 and 模型.  If that finds nothing
    # either, one more piece is only counted: the one whose release finds the most (GPU显存不足怎么办: 不足,
    # which no page has with 显存, so the sections about GPU and 显存 come).  When nothing is found even
    # so, or a Chinese run is not made of index words, or the query uses search syntax (+, -, quotes,
    # field:, ~, ^, *), Material's way runs: any piece, any word (with KV缓存 cut into KV and 缓存).
    Patch("assets/javascripts/workers/search.*.min.js",
          r'search(e){if(e=e.replace(new RegExp("\\p{sc=Han}+","gu"),s=>[...fe(s,this.index.invertedIndex)].join("* ")),',
          r'search(e){let Han=new RegExp("\\p{sc=Han}+","gu"),words=this.index.invertedIndex,'
          r'fewest=s=>{let b=[[]];for(let j=1;j<=s.length;j++)for(let i=0;i<j;i++)'
          r'b[i]&&s.slice(i,j)in words&&(!b[j]||b[i].length+1<b[j].length)&&(b[j]=[...b[i],s.slice(i,j)]);return b[s.length]},'
          r'latin=c=>/[a-z0-9]/i.test(c||""),'
          r'any=e.replace(Han,(s,i)=>(latin(e[i-1])?" ":"")+[...fe(s,words)].join("* ")+(latin(e[i+s.length])?" ":"")),'
          r'all=/(^|\s)[+\-]|[":~^*]/.test(e)?[null]:e.trim().split(/\s+/).map(w=>{let p=[];'
          r'for(let x of w.split(lunr.tokenizer.separator))for(let y of x.match(/\p{sc=Han}+|\P{sc=Han}+/gu)||[])'
          r'p.push(...(/\p{sc=Han}/u.test(y)?fewest(y)||[null]:[y]));'
          r'return p.includes(null)?null:p.length>1?p.map(x=>"+"+x+"*").join(" "):p.join("")}),found=0;'
          r'if(!all.includes(null)){let n=q=>{try{return this.index.search(ce(q)).length}catch(t){return 0}},'
          r'asks=new Set("' + " ".join(QUESTION_WORDS) + r'".split(" ")),pick;all=all.join(" ");found=n(all);'
          r'let loose=all.split(" ").map(x=>x[0]=="+"&&asks.has(x.slice(1,-1))?x.slice(1):x).join(" ");'
          r'if(!found&&loose!==all)found=n(all=loose);'
          r'if(!found)for(let x of all.split(" ").filter(x=>x[0]=="+")){'
          r'let r=all.split(" ").map(y=>y===x?y.slice(1):y).join(" "),k=n(r);k>found&&(found=k,pick=r)}'
          r'pick&&(all=pick)}'
          r'if(e=found?all:any,',
          "a word the reader typed is searched as all of its pieces (扩散模型, top-p, KV缓存)"),
    # Switching palettes now shows the theme's own colour transitions (0.25 s).
    Patch("assets/stylesheets/palette.*.min.css",
          "[data-md-color-switching] *,[data-md-color-switching] :after,"
          "[data-md-color-switching] :before{transition-duration:0s!important}", "",
          "setting data-md-color-switching on every page load restyles every element"),
    Patch("assets/javascripts/bundle.*.min.js",
          'let o=x("meta",{name:"color-scheme"});document.head.appendChild(o);',
          'let o=document.querySelector("meta[name=color-scheme]")'
          '||document.head.appendChild(x("meta",{name:"color-scheme"}));',
          "reuse the color-scheme meta of overrides/main.html instead of appending an empty one"),
    Patch("assets/javascripts/bundle.*.min.js",
          "return o.content=a.colorScheme,",
          "return o.content!==a.colorScheme&&(o.content=a.colorScheme),",
          "set the color-scheme meta only when the scheme changed"),
    Patch("assets/javascripts/bundle.*.min.js",
          'function vi(e){for(let t of M("[href], [src]",e))for(let r of["href","src"])',
          'function vi(e){for(let t of M("[href], [src]",e))'
          'if(e===document&&t.rel==="stylesheet")t.dataset.mdHref=t.href;else for(let r of["href","src"])',
          "leave the loaded page's stylesheet links alone (rewriting an href reloads the sheet); "
          "note their full address for the comparison of <head> elements below"),
    # Instant navigation keeps the <head> elements the next page also has, compared by their HTML.
    # The loaded page's stylesheet links keep their relative href (above), the next page's are made
    # absolute: compared by HTML they differed, the first instant navigation swapped every
    # stylesheet, and the browser scrolled to the link's #section while the page had no styles
    # (15,000 px past it on the applications page; tests/site/test_real_address.py).
    Patch("assets/javascripts/bundle.*.min.js",
          'function bi(e){let t=new Map;for(let r of M(":scope > *",e.head))t.set(r.outerHTML,r);return t}',
          'function bi(e){let t=new Map;for(let r of M(":scope > *",e.head))'
          't.set(r.rel==="stylesheet"?"stylesheet "+(r.dataset.mdHref||r.getAttribute("href")):r.outerHTML,r);'
          'return t}',
          "keep the loaded page's stylesheets on instant navigation: compare them by full address"),
    # Instant navigation notes the scroll offset in the current history entry 100 ms after the
    # page stops scrolling, and opens a page reached by a link at the top (or at that offset)
    # instead of at the link's #section when the entry has an offset.  A scroll just before the
    # click (a link scrolled into view) was noted in the next page's entry while it loaded: that
    # page opened at the old offset.  No offset is noted from the click until the page is placed.
    Patch("assets/javascripts/bundle.*.min.js",
          'history.replaceState(c,""),history.pushState(null,"",a)})',
          'history.replaceState(c,""),history.pushState(null,"",a),window.__mdNavigating=!0})',
          "a link was followed: note no scroll offset until the next page is placed"),
    Patch("assets/javascripts/bundle.*.min.js",
          'r.pipe(ne("offset"),Ae(100)).subscribe(({offset:a})=>{history.replaceState(a,"")})',
          'r.pipe(ne("offset"),Ae(100)).subscribe(({offset:a})=>{window.__mdNavigating||history.replaceState(a,"")})',
          "note no scroll offset while the next page loads"),
    Patch("assets/javascripts/bundle.*.min.js",
          'history.state!==null||!a.hash?window.scrollTo(0,(p=(c=history.state)==null?void 0:c.y)!=null?p:0):',
          'history.state!==null||!a.hash?(window.__mdNavigating=!1,'
          'window.scrollTo(0,(p=(c=history.state)==null?void 0:c.y)!=null?p:0)):',
          "the next page is placed at its noted offset (or the top): note offsets again"),
    # A page reached by a link to a #section is scrolled there when it is placed, but two things can
    # keep the section out of reach at that moment.  On a phone the search overlay locks the page's
    # scroll (the body is fixed) until 225 ms after a result is clicked: a scroll while locked does
    # nothing, and the unlock scrolls back to where the previous page was.  And on a loaded machine the
    # page is sometimes placed while the end of its article is not in the document yet (12 of the 29 h3
    # sections of 专业深入): the section is not found, nothing scrolls, the unlock's scroll was noted
    # as the page's offset and a second placement went there (a search result for 量化 from a scrolled
    # page on a 390 px phone stayed 17,000 px above its section in 5 of 6 runs at 4x CPU throttling).
    # So wait (every 50 ms, at most 3 s) until the page is unlocked and the section is there, noting no
    # offset meanwhile, then scroll to it.  (On a phone the scroll also missed while the search overlay
    # shrank and made the page wider than the screen: docs/assets/stylesheets/extra.css clips it.)
    Patch("assets/javascripts/bundle.*.min.js",
          '(history.scrollRestoration="auto",gn(a.hash),history.scrollRestoration="manual")',
          '(function u(t){let s;try{s=document.getElementById(decodeURIComponent(a.hash.slice(1)))}catch(e){s=!0}'
          '(document.body.hasAttribute("data-md-scrolllock")||!s)&&t<60?setTimeout(u,50,t+1):'
          '(window.__mdNavigating=!1,history.scrollRestoration="auto",gn(a.hash),history.scrollRestoration="manual")})(0)',
          "scroll to the #section once the page is unlocked and the section is in it"),
    Patch("assets/javascripts/bundle.*.min.js",
          "function ti(e){return e.replaceWith(ei),ei.replaceWith(Un(e)),$({ref:e})}",
          'function ti(e){return e.parentElement.classList.contains("md-typeset__table")'
          "||(e.replaceWith(ei),ei.replaceWith(Un(e))),$({ref:e})}",
          "leave tables that the build already wrapped (wrap_tables) where they are"),
    Patch("assets/javascripts/bundle.*.min.js",
          "if(s.length){let d=Pn();d.append(...s),a.insertBefore(d,e)}return es(e)",
          'if(s.length){let d=a.querySelector(":scope>.md-code__nav")||a.insertBefore(Pn(),e);'
          "queueMicrotask(()=>d.append(...s))}return es(e)",
          "fill the code block's nav that the build wrote (code_nav), after every block is measured"),
    # Tooltips of the page's content (about 250 on a stage page, 140 of them glossary terms) are set up when the
    # reader first points at, touches or focuses one: setting up all of them up front was the
    # largest part of Material's start-up on a stage page.  Hover and focus still show the
    # tooltip at once: Material starts from `:hover` and from the focused element.
    # h fromEvent, L merge, Ee take, b switchMap, Xe mountInlineTooltip2.
    Patch("assets/javascripts/bundle.*.min.js",
          '.filter(()=>V("content.tooltips")).map(i=>Xe(i,{viewport$:r})),',
          '.filter(()=>V("content.tooltips")).map(i=>L(h(i,"mouseenter"),h(i,"focusin"),h(i,"touchstart"))'
          ".pipe(Ee(1),b(()=>Xe(i,{viewport$:r})))),",
          "set up a content tooltip when the reader first points at, touches or focuses its element"),
]

# Material's wrapper for a plain table (Un in the bundle): the same markup, written by the build.
WRAP_OPEN = '<div class="md-typeset__scrollwrap"><div class="md-typeset__table">'
WRAP_CLOSE = "</div></div>"
PLAIN_TABLE = re.compile(r"<table>(.*?)</table>", re.S)


def wrap_tables(html: str) -> str:
    """Put every plain <table> (no attributes: Markdown tables) in Material's scroll wrapper."""
    def wrap(match: re.Match) -> str:
        if "<table" in match.group(1):
            raise PatchError("a plain table inside a table: wrap_tables cannot wrap nested tables")
        return WRAP_OPEN + match.group(0) + WRAP_CLOSE
    return PLAIN_TABLE.sub(wrap, html)


# Pygments' token classes that Material draws exactly like the text around them, in both
# schemes: Name (--md-code-hl-name-color is var(--md-code-fg-color)) and Whitespace (no rule).
# tests/site/test_page_load.py checks that the theme still says so.
PLAIN_CODE_SPAN = re.compile(r'<span class="(?:n|w)">([^<]*)</span>')


def unwrap_plain_code_spans(html: str) -> str:
    return PLAIN_CODE_SPAN.sub(r"\1", html)


# A formula next to Chinese punctuation: the browser may break the line between them (a rendered
# formula is an inline block), leaving 「，」 at the start of a line or 「（」 at the end of one, which
# Chinese typesetting never does.  The formula and its punctuation go into a span that does not wrap
# (extra.css), which also keeps the formula from breaking inside: so only a short one, which fits a
# phone's line (a 70-character formula was 380 px wide on a 358 px line).  A long one keeps its break points.
MATH_WITH_PUNCTUATION = re.compile(r'([（「『《“‘]?)(<span class="arithmatex">([^<]*)</span>)([，。、；：？！）」』》”’]?)')
SHORT_FORMULA = 40  # characters of LaTeX source, \( \) included


def keep_punctuation_with_math(html: str) -> str:
    def keep(match: re.Match) -> str:
        opening, formula, source, closing = match.groups()
        if not (opening or closing) or len(source) > SHORT_FORMULA:
            return match[0]
        return f'<span class="math-punct">{opening}{formula}{closing}</span>'
    return MATH_WITH_PUNCTUATION.sub(keep, html)


# Material's bar for a code block's buttons (Pn in the bundle), empty: the bundle (patched)
# puts the copy button in it.  Inserted by the bundle, the bar moved the <code> after it one
# place on, which Material's positional rules (`>:nth-child(N)`, for content tabs) turn into
# a restyle of the whole block; the build writes it in place and extra.css hides it while empty.
CODE_NAV = '<nav class="md-code__nav"></nav>'
CODE_START = re.compile(r"(<pre>(?:<span></span>)?)(?=<code>)")


def code_nav(html: str) -> str:
    """Give every plain code block (<pre> without a class: not a diagram, not notebook text
    output) the empty bar that Material's copy button goes into."""
    return CODE_START.sub(r"\1" + CODE_NAV, html)


def apply(site_dir: Path, patches=PATCHES) -> None:
    """Apply every patch to the built site, or raise PatchError naming the first that fails."""
    texts: dict[Path, str] = {}
    for patch in patches:
        matches = sorted(site_dir.glob(patch.files))
        if len(matches) != 1:
            raise PatchError(f"expected one file {patch.files} in {site_dir}, found {len(matches)}")
        path = matches[0]
        text = texts.get(path)
        if text is None:
            text = path.read_text(encoding="utf-8")
        if text.count(patch.old) != 1:
            raise PatchError(
                f"Material's {path.name} changed: the patch '{patch.why}' ({patch.old[:60]!r}…) "
                f"no longer applies. Check whether the new version still needs it and update "
                f"tools/material_patches.py.")
        texts[path] = text.replace(patch.old, patch.new)
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
