"""Every notebook page shows its executed outputs, run info, Colab badge and download."""

import re
from urllib.parse import urlsplit

import nbformat
import pytest

from tests.conftest import ROOT, mkdocs_config
from tests.site.html import resolve, soup

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = mkdocs_config()
RUN_INFO = re.compile(r"在 (\d+ 核 CPU|GPU（.+）) 上实测：(\d+ 分 )?\d+ 秒，峰值内存 [\d.]+ [MG]B · Python 3\.\d+\.\d+ · "
                      r"torch [\w.+]+ .*· 验证于 \d{4}-\d{2}-\d{2}")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
@pytest.mark.parametrize("variant", ["online", "offline"])
def test_notebook_page(site, notebook, variant):
    root = getattr(site, variant)
    page = root / "notebooks" / notebook.stem / "index.html"
    if variant == "offline":
        page = root / "notebooks" / f"{notebook.stem}.html"
    html = soup(page)

    header = html.select_one(".nb-header")
    assert header is not None, "notebook header missing"
    assert RUN_INFO.search(header.get_text()), header.get_text()

    badge = header.select_one("a.nb-badge")
    url = urlsplit(badge["href"])
    assert url.netloc == "colab.research.google.com"
    repo = urlsplit(CONFIG.repo_url).path.strip("/")
    assert url.path == f"/github/{repo}/blob/main/notebooks/{notebook.name}"
    assert (ROOT / url.path.split("/blob/main/")[1]).is_file()
    badge_img, _ = resolve(page, badge.img["src"])
    assert badge_img.is_file()

    download, _ = resolve(page, header.select_one("a.nb-download")["href"])
    assert download.read_bytes() == notebook.read_bytes()

    # Executed, not just converted: there are outputs, and at least one figure.
    assert html.select(".jp-OutputArea-output"), "no outputs on the page"
    if "plt." in notebook.read_text(encoding="utf-8"):
        assert html.select(".jp-OutputArea-output img[src^='data:image/png']"), "no plots"


def test_run_info_pattern_is_strict():
    good = "在 2 核 CPU 上实测：2 分 13 秒，峰值内存 1.2 GB · Python 3.11.7 · torch 2.13.0 · 验证于 2026-11-30"
    assert RUN_INFO.search(good)
    assert not RUN_INFO.search(good.replace("验证于 2026-11-30", ""))


def test_every_notebook_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.name}" in nav, notebook.name
    assert all(nbformat.read(nb, as_version=4).cells for nb in NOTEBOOKS)
