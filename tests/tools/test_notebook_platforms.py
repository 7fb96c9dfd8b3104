"""tools/notebook_platforms.py: the table of where each notebook runs."""

from tools import notebook_meta, notebook_platforms


def test_a_row_per_notebook_with_measured_and_computed_numbers():
    notebooks = notebook_meta.load_all()
    infos = {nb.stem: {"wall_seconds": 125.8, "peak_rss_kb": 2 * 1024 * 1024, "cpus": 2} for nb in notebooks}
    rows = notebook_platforms.table(notebooks, infos).splitlines()
    assert rows[0].startswith("| notebook | 本站构建（2 核 CPU") and "Colab 免费 CPU（12.7 GB 内存）" in rows[0]
    body = {row.split("](")[1].split(".md)")[0]: row for row in rows[2:]}
    assert set(body) == {nb.stem for nb in notebooks}
    assert all("实测 2 分 6 秒，峰值内存 2.0 GB" in row for row in body.values())
    lora = body["04-lora-finetuning"].split(" | ")
    assert "训练状态约 7.4 GB" in lora[2] and "训练前停下" in lora[2]        # Colab's CPU runtime: over half its RAM
    assert "放得下" in lora[3] and "放得下" in lora[4]                   # Kaggle's 30 GB CPU, a T4
    assert "训练状态约 1.5 GB" in body["03-bert-chinese-sentiment"]      # bert-base-chinese, 102 M parameters
    api = body["05-llm-api-prompting"].split(" | ")                     # generates only: the weights must fit
    assert "float32 权重约 1.8 GB，放得下" in api[2] and "bfloat16 权重约 0.9 GB，放得下" in api[4]


def test_parameter_counts_come_from_the_published_configurations():
    bert = notebook_platforms.parameters(*notebook_platforms.ONLINE_MODELS["03-bert-chinese-sentiment"][1:])
    assert 102_000_000 < bert < 103_000_000  # BERT-base with its 21,128-token Chinese vocabulary, plus the head


def test_a_notebook_that_never_ran_says_so():
    notebooks = notebook_meta.load_all()[:1]
    assert "尚未执行" in notebook_platforms.table(notebooks, {notebooks[0].stem: None})
