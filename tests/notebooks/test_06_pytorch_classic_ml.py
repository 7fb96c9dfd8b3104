"""Notebook 06 (from NumPy to PyTorch), its pieces imported from the notebook itself."""

import math

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, r2_score
from torch import nn
from torch.utils.data import DataLoader

from tests.notebook_import import load_exports


@pytest.fixture(scope="module")
def nb():
    return load_exports("06-pytorch-and-classic-ml.ipynb")


@pytest.fixture(scope="module")
def nb01():
    return load_exports("01-neural-network-from-scratch.ipynb")


def test_hand_gradients_are_notebook_01s_backward(nb, nb01):
    """The notebook says it compares autograd with notebook 01's formulas: they are the same formulas."""
    rng = np.random.default_rng(3)
    params = nb01.init_params(2, 8, 3, rng)
    X, y = rng.normal(size=(20, 2)), rng.integers(0, 3, size=20)
    _, cache = nb01.forward(params, X)
    theirs = nb01.backward(params, cache, y)
    ours = nb.hand_gradients(params["W1"], params["b1"], params["W2"], params["b2"], X, y)
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-12, atol=1e-15)


def test_autograd_matches_the_hand_gradients_and_catches_a_wrong_one(nb):
    torch.manual_seed(0)
    net = nb.TwoLayerNet(2, 5, 3).double()
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 2)), rng.integers(0, 3, size=16)
    weights = [p.detach().numpy() for p in (net.hidden.weight.T, net.hidden.bias, net.out.weight.T, net.out.bias)]
    ours, theirs = nb.hand_gradients(*weights, X, y), nb.autograd_gradients(net, X, y)
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-10, atol=1e-12)
    wrong = nb.hand_gradients(*weights, X, y)["W1"] * 2  # a forgotten 1/N, say
    assert not np.allclose(wrong, theirs["W1"])


def test_warmup_then_cosine_to_zero(nb):
    factor = nb.warmup_cosine(warmup_steps=4, total_steps=20)
    assert [factor(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert factor(12) == pytest.approx(0.5)
    assert factor(20) == pytest.approx(0.0, abs=1e-12) and factor(100) == pytest.approx(0.0, abs=1e-12)
    values = [factor(s) for s in range(4, 21)]
    assert values == sorted(values, reverse=True)


def tiny_digits(nb, n=96, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n)
    images = np.zeros((n, 64))
    images[np.arange(n), labels * 6] = 16  # one bright pixel per class: easy to learn
    images += rng.uniform(0, 2, size=(n, 64))
    return nb.DigitsDataset(images, labels)


def test_dataset_shapes_and_scale(nb):
    data = tiny_digits(nb, n=10)
    image, label = data[3]
    assert len(data) == 10 and image.shape == (1, 8, 8) and image.dtype == torch.float32
    assert 0 <= image.min() and image.max() <= 18 / 16 and label.dtype == torch.long


@pytest.mark.parametrize("make", ["make_mlp", "make_cnn"])
def test_fit_learns_and_the_checkpoint_gives_identical_outputs(nb, make, tmp_path):
    torch.manual_seed(0)
    data = tiny_digits(nb)
    loader = DataLoader(data, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
    model = getattr(nb, make)()
    history = nb.fit(model, loader, DataLoader(data, batch_size=96), epochs=15, lr=1e-2)
    assert list(history.index) == list(range(1, 16))
    assert history["训练损失"].iloc[-1] < history["训练损失"].iloc[0] / 3
    assert history["验证准确率"].iloc[-1] > 0.9
    assert history["学习率"].iloc[-1] == pytest.approx(0.0, abs=1e-12)  # the cosine ends at 0
    assert not model.training  # evaluate() left it in evaluation mode

    nb.save_checkpoint(tmp_path / "m.pt", model, epoch=15)
    restored = getattr(nb, make)()
    assert nb.load_checkpoint(tmp_path / "m.pt", restored)["epoch"] == 15
    restored.eval()
    with torch.no_grad():
        assert torch.equal(restored(data.images), model(data.images))


def test_training_clips_the_gradient_norm(nb):
    """train_one_epoch reports the norm before clipping, and the step uses the clipped one."""
    model = nn.Linear(64, 10)
    data = tiny_digits(nb, n=8)
    flat = [(x.reshape(-1), y) for x, y in data]
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    before = [p.detach().clone() for p in model.parameters()]
    _, norm = nb.train_one_epoch(model, DataLoader(flat, batch_size=8), optimizer, scheduler, max_grad_norm=0.01)
    moved = math.sqrt(sum(((p.detach() - b) ** 2).sum().item() for p, b in zip(model.parameters(), before)))
    assert norm > 0.01 and moved == pytest.approx(0.01, rel=1e-3)


def test_linear_regression_and_r2_match_scikit_learn(nb):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 4.0 + rng.normal(scale=0.3, size=50)
    weights, bias = nb.fit_linear_regression(X, y)
    library = LinearRegression().fit(X, y)
    np.testing.assert_allclose(weights, library.coef_)
    assert bias == pytest.approx(library.intercept_)
    assert nb.r2_score_by_hand(y, X @ weights + bias) == pytest.approx(r2_score(y, library.predict(X)))


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_scikit_learn(nb, seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, 2, 40), rng.integers(0, 2, 40)
    tp, fp, fn, tn = nb.confusion_counts(y_true, y_pred)
    assert confusion_matrix(y_true, y_pred).tolist() == [[tn, fp], [fn, tp]]
    expected = precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)[:3]
    np.testing.assert_allclose(nb.precision_recall_f1(y_true, y_pred), expected)


def test_metrics_of_a_classifier_that_never_says_positive(nb):
    assert nb.precision_recall_f1([1, 0, 1, 0], [0, 0, 0, 0]) == (0.0, 0.0, 0.0)


def test_kmeans_is_lloyds_algorithm(nb):
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(c, 0.5, size=(30, 2)) for c in ([0, 0], [4, 4], [0, 5])])
    start = X[[0, 1, 2]]  # three points of the first blob: the algorithm has to move them
    labels, centers = nb.kmeans(X, start)
    library = KMeans(n_clusters=3, init=start, n_init=1, tol=0, algorithm="lloyd").fit(X)
    assert np.array_equal(labels, library.labels_)
    np.testing.assert_allclose(centers, library.cluster_centers_)
    assert len(set(labels)) == 3


@pytest.mark.parametrize("padding", [0, 1])
def test_convolution_by_hand_is_conv2d(nb, padding):
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 2, kernel_size=3, padding=padding).double()
    image = torch.randn(3, 6, 5, dtype=torch.float64)
    ours = nb.conv2d_by_hand(image.numpy(), conv.weight.detach().numpy(), conv.bias.detach().numpy(), padding)
    theirs = conv(image.unsqueeze(0))[0].detach().numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_lstm_forget_gate_bias_is_set_where_torch_keeps_it(nb):
    model = nb.SequenceModel("lstm", hidden=4, forget_bias=1.0)
    bias = model.rnn.bias_ih_l0.detach() + model.rnn.bias_hh_l0.detach()
    # PyTorch orders the LSTM gates input, forget, cell, output
    assert torch.equal(bias[4:8], torch.ones(4))


def test_rnn_gradient_vanishes_and_attention_keeps_one_step(nb):
    short, long = (nb.first_input_gradient("rnn", T, seed=0) for T in (2, 50))
    assert long < short * 1e-6
    near, far = (nb.first_input_gradient("attention", T, seed=0) for T in (2, 50))
    assert far > near / 200  # shrinks like 1/T, not exponentially
