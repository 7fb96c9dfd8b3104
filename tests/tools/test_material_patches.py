"""The exact-text patches to Material's assets apply whole or stop the build, and the
markup rewrites keep what a reader sees (tools/material_patches.py)."""

import pytest

from tools import material_patches
from tools.material_patches import (Patch, PatchError, code_nav, keep_punctuation_with_math, unwrap_plain_code_spans,
                                    wrap_tables)


def fake_site(tmp_path, text="let a=1;let b=2;"):
    js = tmp_path / "assets" / "javascripts"
    js.mkdir(parents=True)
    (js / "bundle.1234.min.js").write_text(text, encoding="utf-8")
    return tmp_path


def test_patches_apply_in_order_to_one_file(tmp_path):
    site = fake_site(tmp_path)
    material_patches.apply(site, [Patch("assets/javascripts/bundle.*.min.js", "a=1", "a=3", "one"),
                                  Patch("assets/javascripts/bundle.*.min.js", "b=2", "b=4", "two")])
    assert (site / "assets/javascripts/bundle.1234.min.js").read_text() == "let a=3;let b=4;"


def test_a_patch_whose_text_changed_stops_everything(tmp_path):
    site = fake_site(tmp_path)
    with pytest.raises(PatchError, match="'two'.*no longer applies"):
        material_patches.apply(site, [Patch("assets/javascripts/bundle.*.min.js", "a=1", "a=3", "one"),
                                      Patch("assets/javascripts/bundle.*.min.js", "c=2", "c=4", "two")])
    # nothing written half-way
    assert (site / "assets/javascripts/bundle.1234.min.js").read_text() == "let a=1;let b=2;"


def test_a_text_found_twice_or_a_missing_file_stops_the_build(tmp_path):
    site = fake_site(tmp_path, "let a=1;let a=1;")
    with pytest.raises(PatchError, match="no longer applies"):
        material_patches.apply(site, [Patch("assets/javascripts/bundle.*.min.js", "a=1", "a=3", "one")])
    with pytest.raises(PatchError, match="expected one file"):
        material_patches.apply(site, [Patch("assets/javascripts/other.*.js", "a=1", "a=3", "one")])


def test_every_patch_matches_the_installed_material(tmp_path):
    """The pinned Material's own assets, before the build touches them."""
    import shutil
    from pathlib import Path

    import material

    assets = Path(material.__file__).parent / "templates" / "assets"
    shutil.copytree(assets, tmp_path / "assets")
    material_patches.apply(tmp_path)


def test_plain_tables_get_materials_wrapper_and_others_do_not():
    html = '<p>x</p><table>\n<tr><td>1</td></tr>\n</table><table class="dataframe"><tr><td>2</td></tr></table>'
    out = wrap_tables(html)
    assert out.count('<div class="md-typeset__scrollwrap"><div class="md-typeset__table"><table>') == 1
    assert out.count("</table></div></div>") == 1
    assert '<table class="dataframe">' in out and wrap_tables("<p>no table</p>") == "<p>no table</p>"
    with pytest.raises(PatchError, match="nested"):
        wrap_tables("<table><tr><td><table><tr><td>1</td></tr></table></td></tr></table>")


def test_unwrapping_name_and_whitespace_spans_keeps_the_code_text():
    html = ('<code><span class="n">model</span><span class="o">.</span><span class="n">eval</span>'
            '<span class="p">()</span><span class="w"> </span><span class="c1"># n</span></code>')
    out = unwrap_plain_code_spans(html)
    assert out == ('<code>model<span class="o">.</span>eval<span class="p">()</span> '
                   '<span class="c1"># n</span></code>')


def test_code_blocks_get_materials_empty_button_bar_and_other_pre_do_not():
    html = ('<div class="highlight"><pre><span></span><code>x = 1</code></pre></div>'
            '<pre class="mermaid"><code>graph LR</code></pre><pre class="nb-text">loss 0.5</pre>'
            '<pre><code>plain</code></pre>')
    assert code_nav(html) == (
        '<div class="highlight"><pre><span></span><nav class="md-code__nav"></nav><code>x = 1</code></pre></div>'
        '<pre class="mermaid"><code>graph LR</code></pre><pre class="nb-text">loss 0.5</pre>'
        '<pre><nav class="md-code__nav"></nav><code>plain</code></pre>')


def test_the_button_bar_is_the_one_materials_bundle_renders():
    from pathlib import Path

    import material

    bundle = next((Path(material.__file__).parent / "templates" / "assets" / "javascripts").glob("bundle.*.min.js"))
    assert 'function Pn(){return x("nav",{class:"md-code__nav"})' in bundle.read_text(encoding="utf-8")


def test_chinese_punctuation_stays_with_a_short_formula_next_to_it():
    short, long = r"\(d_k\)", r"\(\mathrm{KL}(Q\|P)=0.9\ln\frac{0.9}{0.5}+0.1\ln\frac{0.1}{0.5}\)"
    html = (f'<p>维数 <span class="arithmatex">{short}</span>，以及 <span class="arithmatex">{short}</span> 本身'
            f'和 <span class="arithmatex">{long}</span>。</p>')
    assert keep_punctuation_with_math(html) == (
        f'<p>维数 <span class="math-punct"><span class="arithmatex">{short}</span>，</span>'
        f'以及 <span class="arithmatex">{short}</span> 本身'  # no punctuation after it
        f'和 <span class="arithmatex">{long}</span>。</p>')  # too long to keep from breaking on a phone
    quoted = f'约 3 万 Token（<span class="arithmatex">{short}</span>）的跨度'
    assert keep_punctuation_with_math(quoted) == (
        f'约 3 万 Token<span class="math-punct">（<span class="arithmatex">{short}</span>）</span>的跨度')

