"""The hand-written network in notebook 01, imported from the notebook itself."""

import numpy as np
import pytest

from tests.notebook_import import load_exports


@pytest.fixture(scope="module")
def nn():
    return load_exports("01-neural-network-from-scratch.ipynb")


@pytest.fixture()
def batch(nn):
    rng = np.random.default_rng(0)
    X, y = nn.make_spirals(50, 0.03, rng)
    return nn.init_params(2, 8, 2, rng), X, y


def test_spirals_shapes_and_split_do_not_overlap(nn):
    rng = np.random.default_rng(0)
    X, y = nn.make_spirals(100, 0.03, rng)
    assert X.shape == (200, 2) and set(y) == {0, 1} and (y == 1).sum() == 100
    X_tr, y_tr, X_te, y_te = nn.train_test_split(X, y, 0.2, rng)
    assert len(X_tr) == 160 and len(X_te) == 40
    assert not {tuple(r) for r in X_tr} & {tuple(r) for r in X_te}


def test_probabilities_sum_to_one(nn, batch):
    params, X, _ = batch
    P, _ = nn.forward(params, X)
    assert P.shape == (100, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def test_backward_matches_numerical_gradient(nn, batch):
    params, X, y = batch
    _, cache = nn.forward(params, X)
    analytic = nn.backward(params, cache, y)
    numeric = nn.numerical_gradient(params, X, y)
    for name in params:
        assert analytic[name].shape == params[name].shape
        assert nn.relative_error(analytic[name], numeric[name]) < 1e-6, name


def test_backward_matches_torch_autograd(nn, batch):
    params, X, y = batch
    _, cache = nn.forward(params, X)
    ours = nn.backward(params, cache, y)
    theirs, loss = nn.torch_gradients(params, X, y)
    assert loss == pytest.approx(nn.cross_entropy(cache["P"], y))
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-7, atol=1e-10)


def test_a_broken_backward_is_caught(nn, batch):
    params, X, y = batch
    _, cache = nn.forward(params, X)
    wrong = nn.backward(params, cache, y)["W1"] * 2  # e.g. a forgotten 1/N
    numeric = nn.numerical_gradient(params, X, y)["W1"]
    assert nn.relative_error(wrong, numeric) > 0.1


def test_training_reduces_loss(nn, batch):
    params, X, y = batch
    history = nn.train(params, X, y, np.random.default_rng(1), epochs=20)
    assert history[-1] < history[0]
