"""The table of where each notebook runs (docs/notebooks/index.md includes it).

Every number in it is measured by this site's build (the offline source, on the build machine)
or computed here: the training state of the models the online sources download, from the models'
published configurations, judged with the notebooks' own rule (notebooks/shared/compute_budget.py).
"""

from __future__ import annotations

import contextlib
import io
import hashlib
import json
from importlib.metadata import version
from pathlib import Path

from tools.notebook_runner import duration
from tools.user_cache import cache_root, kept_json

ROOT = Path(__file__).resolve().parent.parent
GIB = 2**30
COLAB_CPU_RAM = 12.7 * GIB  # Colab's free CPU runtime, as its resource panel shows it
KAGGLE_CPU_RAM = 30 * GIB   # a Kaggle CPU session
T4_MEMORY = 14.7 * GIB      # what torch reports for a T4's 16 GB (Colab's free GPU, one of Kaggle's)

# The models the online sources download: their Hub names and published configurations.
QWEN_05B = ("Qwen2.5-0.5B-Instruct", "causal-lm",
            {"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
             "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
             "vocab_size": 151936, "tie_word_embeddings": True})
QWEN_05B_BASE = ("Qwen2.5-0.5B", *QWEN_05B[1:])  # the base model: same architecture, not tuned for chat
QWEN_15B = ("Qwen2.5-1.5B-Instruct", "causal-lm",
            {"model_type": "qwen2", "hidden_size": 1536, "intermediate_size": 8960,
             "num_hidden_layers": 28, "num_attention_heads": 12, "num_key_value_heads": 2,
             "vocab_size": 151936, "tie_word_embeddings": True})
ONLINE_MODELS = {
    "03-bert-chinese-sentiment": ("bert-base-chinese", "sequence-classification",
                                  {"model_type": "bert", "vocab_size": 21128, "num_labels": 2}),
    "04-lora-finetuning": QWEN_05B,
    "05-llm-api-prompting": QWEN_05B,
    "07-tokens-decoding-kv-cache": QWEN_05B_BASE,
    "08-rag-retrieval-augmented-generation": QWEN_05B,  # and multilingual-e5-small (118M) for the vectors
    "09-agent-tool-calling": QWEN_05B,
    "10-evaluation": QWEN_05B,
    "11-model-serving": QWEN_05B,  # and multilingual-e5-small (118M) for the classifier
}
# Models a notebook loads besides the one above, at the same time and only to generate: their weights count too.
ALSO_LOADED = {"09-agent-tool-calling": [QWEN_15B]}


def trains(nb) -> bool:
    """A notebook that trains its online model estimates the cost first: it carries the
    compute-budget cell (tests/notebooks/test_sources.py checks that it does).  Any other
    only generates text with it, so its weights are what must fit."""
    return "shared:compute_budget" in nb.path.read_text(encoding="utf-8")


def parameters(kind: str, config: dict) -> int:
    """Parameter count of a model built from `config` on the meta device (no weights, no memory).
    Kept in the user cache under the configuration and the torch and transformers versions:
    importing them and building the models is most of a build's first step (15 of 17 s)."""
    key = json.dumps([kind, config, version("torch"), version("transformers")], sort_keys=True)
    path = cache_root() / "parameter-counts" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    return kept_json(path, lambda: _count_parameters(kind, config))


def _count_parameters(kind: str, config: dict) -> int:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification

    settings = dict(config)
    built = AutoConfig.for_model(settings.pop("model_type"), **settings)
    auto = AutoModelForCausalLM if kind == "causal-lm" else AutoModelForSequenceClassification
    with torch.device("meta"):
        return sum(p.numel() for p in auto.from_config(built).parameters())


def fits(memory_bytes: float, device: str, available: float) -> bool:
    """The notebooks' own rule: check_budget() from notebooks/shared/compute_budget.py, memory only."""
    namespace: dict = {}
    exec((ROOT / "notebooks" / "shared" / "compute_budget.py").read_text(encoding="utf-8"), namespace)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            namespace["check_budget"](0, memory_bytes, device, speed=1.0, available=available)
    except RuntimeError:
        return False
    return True


def _measured(info: dict | None) -> str:
    if not info:
        return "尚未执行"
    return f"实测 {duration(info)}，峰值内存 {info['peak_rss_kb'] / 1024 / 1024:.1f} GB"


def table(notebooks, run_infos: dict[str, dict | None]) -> str:
    """Markdown: one row per notebook; `run_infos` maps a notebook's stem to its run_info (or None)."""
    head = ["notebook", f"本站构建（{_cpus(run_infos)} 核 CPU，离线来源）",
            f"Colab 免费 CPU（{COLAB_CPU_RAM / GIB:.1f} GB 内存）", f"Kaggle CPU（{KAGGLE_CPU_RAM / GIB:.0f} GB 内存）",
            "Colab T4 / Kaggle GPU（16 GB 显存）"]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for nb in notebooks:
        measured = _measured(run_infos.get(nb.stem))
        if nb.stem not in ONLINE_MODELS:
            same = "能运行：代码相同，不下载模型和数据"
            rows.append(f"| {nb.number} [{nb.title}]({nb.stem}.md) | {measured} | {same} | {same} | {same}，用不到 GPU |")
            continue
        name, kind, config = ONLINE_MODELS[nb.stem]
        if not trains(nb):
            models = [ONLINE_MODELS[nb.stem], *ALSO_LOADED.get(nb.stem, [])]
            names, n_parameters = " 与 ".join(m[0] for m in models), sum(parameters(*m[1:]) for m in models)
            rows.append(f"| {nb.number} [{nb.title}]({nb.stem}.md) | {measured} | " + " | ".join(
                _inference(names, n_parameters, ram) for ram in (COLAB_CPU_RAM, KAGGLE_CPU_RAM, None)) + " |")
            continue
        state = 16 * parameters(kind, config)  # float32 weights, gradients and two AdamW moments
        size = f"全量微调 {name}，训练状态约 {state / GIB:.1f} GB"

        def cpu(ram):
            if fits(state, "cpu", ram):
                return f"Hub 来源：{size}，放得下；训练前实测这台 CPU 的速度，估算太慢就停下"
            return f"Hub 来源：{size}，超过内存的一半，训练前停下"

        gpu = f"Hub 来源：{size}，{'放得下' if fits(state, 'cuda', T4_MEMORY) else '放不下，训练前停下'}"
        rows.append(f"| {nb.number} [{nb.title}]({nb.stem}.md) | {measured} | {cpu(COLAB_CPU_RAM)} | {cpu(KAGGLE_CPU_RAM)} | {gpu} |")
    return "\n".join(rows) + "\n"


def _inference(name: str, n_parameters: int, ram: float | None) -> str:
    """Generating only: float32 weights on a CPU (most CPUs are slower in bfloat16), bfloat16 on a GPU."""
    if ram is None:
        weights = 2 * n_parameters
        verdict = "放得下" if fits(weights, "cuda", T4_MEMORY) else "放不下"
        return f"Hub 来源：只生成文本，{name} 的 bfloat16 权重约 {weights / GIB:.1f} GB，{verdict}"
    weights = 4 * n_parameters
    verdict = "放得下" if fits(weights, "cpu", ram) else "超过内存的一半，放不下"
    return f"Hub 来源：只生成文本，{name} 的 float32 权重约 {weights / GIB:.1f} GB，{verdict}"


def _cpus(run_infos) -> int | str:
    cpus = {info["cpus"] for info in run_infos.values() if info}
    return cpus.pop() if len(cpus) == 1 else "多"
