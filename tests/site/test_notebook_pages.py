"""Every notebook page shows its executed outputs, run info, Colab badge, stages and download."""

import re
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT, mkdocs_config
from tests.site.html import resolve, soup
from tools import notebook_meta

NOTEBOOKS = notebook_meta.sources()
CONFIG = mkdocs_config()
SIZE = r"([\d.]+ [MG]B|不到 1 MB)"
RUN_INFO = re.compile(rf"在 (\d+ 核 CPU|GPU（.+）) 上实测：(\d+ 分 )?\d+ 秒，峰值内存 {SIZE}，运行时写入磁盘(最多 [\d.]+ [MG]B|不到 1 MB)"
                      rf"(，另需离线模型 {SIZE}（第一次运行时转换）)? · Python 3\.\d+\.\d+ · "
                      r".*· 验证于 \d{4}-\d{2}-\d{2}")


FIGURE_MAX_WIDTH = 1000


def page_of(root, stem, variant):
    return root / "notebooks" / (f"{stem}.html" if variant == "offline" else f"{stem}/index.html")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
@pytest.mark.parametrize("variant", ["online", "offline"])
def test_notebook_page(site, notebook, variant):
    page = page_of(getattr(site, variant), notebook.stem, variant)
    html = soup(page)
    meta = notebook_meta.load(notebook)

    header = html.select_one(".nb-header")
    assert header is not None, "notebook header missing"
    assert header.find_previous("h1"), "the header sits under the page title"
    run_info = RUN_INFO.search(header.get_text())
    assert run_info, header.get_text()
    assert bool(run_info.group(5)) == bool(meta.models), "the offline models' size is stated when it uses some"
    for stage in meta.stages:
        assert header.select_one(f'a[href*="stages/{stage}"]'), f"no link to stage {stage}"
    # the number the other pages cite it by (「notebook 09」), in the header and the page's title
    assert header.select_one(".nb-stages").get_text().startswith(f"notebook {meta.number} · 所属阶段："), header
    assert html.title.get_text().startswith(f"{meta.number} {meta.title}"), html.title

    colab, kaggle = header.select("a.nb-badge")
    url = urlsplit(colab["href"])
    assert url.netloc == "colab.research.google.com"
    repo = urlsplit(CONFIG.repo_url).path.strip("/")
    assert url.path == f"/github/{repo}/blob/main/notebooks/{notebook.name}"
    assert (ROOT / url.path.split("/blob/main/")[1]).is_file()
    url = urlsplit(kaggle["href"])  # Kaggle imports the notebook from its GitHub page
    assert (url.netloc, url.path) == ("kaggle.com", "/kernels/welcome")
    assert url.query == f"src=https://github.com/{repo}/blob/main/notebooks/{notebook.name}"
    for badge in (colab, kaggle):
        badge_img, _ = resolve(page, badge.img["src"])
        assert badge_img.is_file() and badge.img["alt"].startswith("在 ")

    download, _ = resolve(page, header.select_one("a.nb-download")["href"])
    assert download.read_bytes() == notebook.read_bytes()

    # Executed, not just converted: code with copy buttons' markup, outputs, and the figures as files.
    assert html.select(".nb-input pre"), "no code on the page"
    assert html.select(".nb-output"), "no outputs on the page"
    if "plt." in notebook.read_text(encoding="utf-8"):
        images = html.select(".nb-figure img")
        assert images, "no plots"
        for img in images:
            assert resolve(page, img["src"])[0].is_file(), img["src"]
            # a tap on a shrunk figure (a phone) opens it at full size
            assert img.parent.name == "a" and img.parent["href"] == img["src"], img.parent
            # laid out for the page: the desktop column is 736 px, and a figure wider than
            # FIGURE_MAX_WIDTH shrinks its 10-point labels below 10 px (put the panels on rows)
            if img["src"].endswith(".png"):
                assert int(img["width"]) <= FIGURE_MAX_WIDTH, f"{img['src']} is {img['width']} px wide"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_edit_link_points_at_the_notebook_source(site, notebook):
    page = soup(page_of(site.online, notebook.stem, "online"))
    edit = page.select_one("a.md-content__button[href*='/notebooks/']")
    assert edit and edit["href"].endswith(f"/blob/main/notebooks/{notebook.name}"), edit


def test_notebooks_index_is_derived_from_metadata(site):
    page = soup(site.online / "notebooks" / "index.html")
    listing, platforms = page.select("article table")
    for table in (listing, platforms):
        rows = table.select("tbody tr")
        assert len(rows) == len(NOTEBOOKS)
        for row, path in zip(rows, NOTEBOOKS):
            meta = notebook_meta.load(path)
            assert row.a.get_text() == meta.title and row.a["href"].rstrip("/").endswith(path.stem)
            assert row.td.get_text().startswith(f"{meta.number} {meta.title}"), row.td
    assert "Colab 免费 CPU" in platforms.thead.get_text() and "Kaggle" in platforms.thead.get_text()
    assert all(RUN_INFO_SHORT.search(row.get_text()) for row in platforms.select("tbody tr")), platforms.get_text()


RUN_INFO_SHORT = re.compile(r"实测 (\d+ 分 )?\d+ 秒，峰值内存 \d+\.\d GB")


def test_run_info_pattern_is_strict():
    good = "在 2 核 CPU 上实测：2 分 13 秒，峰值内存 1.2 GB，运行时写入磁盘最多 2.0 GB · Python 3.11.7 · numpy 2.4.6 · 验证于 2026-11-30"
    assert RUN_INFO.search(good)
    assert RUN_INFO.search(good.replace("最多 2.0 GB ·", "不到 1 MB，另需离线模型 465 MB（第一次运行时转换） ·"))
    assert not RUN_INFO.search(good.replace("，运行时写入磁盘最多 2.0 GB", ""))
    assert not RUN_INFO.search(good.replace("验证于 2026-11-30", ""))


@pytest.mark.parametrize("variant", ["online", "offline"])
def test_every_notebook_page_offers_the_zip_of_all_notebooks(site, variant):
    import zipfile

    root = getattr(site, variant)
    for notebook in NOTEBOOKS:
        page = page_of(root, notebook.stem, variant)
        link = soup(page).select_one(".nb-header a.nb-download-all")
        archive, _ = resolve(page, link["href"])
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
        assert f"llm-roadmap-notebooks/{notebook.name}" in names
        # no name climbs out of the folder (`unzip` warned about llm-roadmap-notebooks/../docs/faq.md)
        assert not [n for n in names if ".." in n.split("/")], names
        for data in notebook_meta.load(notebook).data:
            # where the notebook looks for it when it runs in llm-roadmap-notebooks/: data/… next to it, the
            # site's pages (../docs/… from notebooks/ in the repository) at docs/…
            assert f"llm-roadmap-notebooks/{data.removeprefix('../')}" in names, data
