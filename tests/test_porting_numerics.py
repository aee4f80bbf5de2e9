"""Numerical programs, written as one writes them with numpy or PyTorch, ported to graphgrad:
PCA by SVD and eigh, Fisher's LDA, Gaussian process regression, a Kalman filter's and a
Gaussian mixture's likelihoods, linear and ridge regression, imbalanced classification with
class weights, weighted logistic regression by Newton's method, a multi-task model in
float32, a character RNN with its gradients clipped in place, standardisation of data with
holes, label smoothing, and integrals and derivatives on grids. Each checks values against an
independent reference: scikit-learn's estimators (when installed), numpy by hand, closed
forms or finite differences. Data are made here, or scikit-learn's bundled digits and iris."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim


def _digits() -> tuple[np.ndarray, np.ndarray]:
    datasets = pytest.importorskip("sklearn.datasets")
    return _load_digits(datasets)


@functools.cache
def _load_digits(datasets) -> tuple[np.ndarray, np.ndarray]:
    digits = datasets.load_digits()
    return digits.data / 16.0, digits.target  # (1797, 64) in [0, 1], (1797,)


def _softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def _projector(W: np.ndarray) -> np.ndarray:
    """The orthogonal projector onto the span of W's columns."""
    Q, _ = np.linalg.qr(W)
    return Q @ Q.T


# -- PCA -------------------------------------------------------------------------------------------
def test_pca_by_svd_and_by_eigh_of_the_covariance_is_scikit_learns():
    decomposition = pytest.importorskip("sklearn.decomposition")
    X = _digits()[0][:300]
    reference = decomposition.PCA(n_components=5).fit(X)
    Xc = gg.Tensor(X) - gg.mean(gg.Tensor(X), axis=0)
    U, S, Vh = gg.linalg.svd(Xc, full_matrices=False)
    assert U.shape == (300, 64) and S.shape == (64,) and Vh.shape == (64, 64)
    np.testing.assert_allclose(S.data[:5] ** 2 / 299, reference.explained_variance_,
                               rtol=1e-10)
    np.testing.assert_allclose(np.abs(Vh.data[:5]), np.abs(reference.components_), atol=1e-8)
    w, V = gg.linalg.eigh(gg.cov(X, rowvar=False))  # ascending eigenvalues
    np.testing.assert_allclose(w.data[::-1][:5], reference.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(_projector(V.data[:, ::-1][:, :5]),
                               _projector(reference.components_.T), atol=1e-8)
    # np.linalg's own calls on a tensor run the same ops
    np.testing.assert_allclose(np.linalg.svd(Xc, full_matrices=False)[1].data, S.data)


def test_the_top_eigenvalues_gradient_is_the_outer_product_of_its_eigenvector():
    """d lambda_max / dC = v v^T (symmetric C, distinct top eigenvalue), PCA's sensitivity."""
    X = _digits()[0][:200]
    C = gg.Tensor(np.cov(X, rowvar=False), requires_grad=True)
    w, V = gg.linalg.eigh(C)
    w[-1].backward()
    v = np.linalg.eigh(C.data)[1][:, -1]
    # eigh reads the lower triangle: its gradient is v v^T there, doubled off the diagonal
    np.testing.assert_allclose(C.grad, np.tril(2 * np.outer(v, v)) - np.diag(v * v),
                               atol=1e-12)
    top3 = gg.linalg.eigvalsh(gg.cov(gg.Tensor(X), rowvar=False))[-3:].sum()
    assert top3.item() == pytest.approx(np.linalg.eigvalsh(C.data)[-3:].sum(), rel=1e-12)


def test_reconstruction_loss_minimised_by_adam_finds_the_top_k_subspace():
    X = _digits()[0][:300]
    Xc = gg.Tensor(X - X.mean(axis=0))
    W = gg.Tensor(np.random.default_rng(0).standard_normal((64, 3)) * 0.1, requires_grad=True)
    adam = optim.Adam([W], lr=0.05)
    for _ in range(200):
        J = gg.sum((Xc @ W @ W.T - Xc) ** 2) / 300
        adam.zero_grad()
        J.backward()
        adam.step()
    s = np.linalg.svd(Xc.data, compute_uv=False)
    # Eckart-Young: the least error of a rank-3 reconstruction is the rest of the spectrum
    assert J.item() == pytest.approx((s[3:] ** 2).sum() / 300, rel=1e-6)
    Vh = gg.linalg.svd(Xc, full_matrices=False)[2].data
    np.testing.assert_allclose(_projector(W.data), Vh[:3].T @ Vh[:3], atol=1e-4)
    # the minimiser's columns are orthonormal, up to the step's noise
    np.testing.assert_allclose(W.data.T @ W.data, np.eye(3), atol=1e-3)


def test_fisher_lda_by_cholesky_and_eigh_is_scikit_learns_and_adam_finds_its_direction():
    """The generalised eigenproblem Sb v = lambda Sw v, made symmetric with Sw = L L^T:
    eigh(L^-1 Sb L^-T), against LinearDiscriminantAnalysis(solver="eigen"); then the Fisher
    ratio w^T Sb w / w^T Sw w, maximised by Adam, reaches the top eigenvalue."""
    datasets = pytest.importorskip("sklearn.datasets")
    discriminant_analysis = pytest.importorskip("sklearn.discriminant_analysis")
    X, y = datasets.load_iris(return_X_y=True)
    reference = discriminant_analysis.LinearDiscriminantAnalysis(solver="eigen").fit(X, y)
    # scikit-learn's scatter matrices: the classes' covariances weighted by their priors
    Sw = sum(np.mean(y == c) * gg.cov(X[y == c], rowvar=False, bias=True) for c in range(3))
    Sb = gg.cov(X, rowvar=False, bias=True) - Sw
    L_inv = gg.linalg.inv(gg.linalg.cholesky(Sw))
    eigenvalues, V = gg.linalg.eigh(L_inv @ Sb @ L_inv.T)
    top = eigenvalues.data[::-1]
    np.testing.assert_allclose(top[:2] / top.sum(), reference.explained_variance_ratio_,
                               rtol=1e-10)
    directions = (L_inv.T @ V).data[:, ::-1][:, :2]
    scalings = reference.scalings_[:, :2]
    np.testing.assert_allclose(np.abs(directions / np.linalg.norm(directions, axis=0)),
                               np.abs(scalings / np.linalg.norm(scalings, axis=0)), atol=1e-10)
    w = gg.Tensor(np.ones(4), requires_grad=True)
    adam = optim.Adam([w], lr=0.1)
    for _ in range(300):
        ratio = (w @ Sb.data @ w) / (w @ Sw.data @ w)
        adam.zero_grad()
        (-ratio).backward()
        adam.step()
    assert ratio.item() == pytest.approx(top[0], rel=1e-6)
    cosine = w.data @ directions[:, 0] / np.linalg.norm(w.data) / np.linalg.norm(directions[:, 0])
    assert abs(cosine) == pytest.approx(1.0, abs=1e-6)


# -- Gaussian process regression -------------------------------------------------------------------
def _gp_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-3, 3, 20))
    return x, np.sin(x) + 0.1 * rng.standard_normal(20)


def _nlml(log_ell, log_noise, x, y):
    """The negative log marginal likelihood of y under an RBF kernel plus noise, by Cholesky:
    1/2 |L^-1 y|^2 + 1/2 log det K + n/2 log 2 pi, K = L L^T."""
    n = len(x)
    D2 = (x[:, None] - x[None, :]) ** 2
    K = gg.exp(-0.5 * D2 * gg.exp(-2 * log_ell)) + gg.exp(2 * log_noise) * np.eye(n)
    L = gg.linalg.cholesky(K)
    alpha = gg.linalg.solve(L, y[:, None])  # the triangular solve, as a solve
    _, logdet = gg.linalg.slogdet(K)
    return 0.5 * gg.sum(alpha ** 2) + 0.5 * logdet + 0.5 * n * np.log(2 * np.pi)


def _nlml_numpy(log_ell: float, log_noise: float, x: np.ndarray, y: np.ndarray) -> float:
    K = np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / np.exp(2 * log_ell))
    K += np.exp(2 * log_noise) * np.eye(len(x))
    return (0.5 * y @ np.linalg.solve(K, y) + 0.5 * np.linalg.slogdet(K)[1]
            + 0.5 * len(x) * np.log(2 * np.pi))


def test_gp_marginal_likelihood_is_scikit_learns_and_its_gradient_finite_differences():
    gaussian_process = pytest.importorskip("sklearn.gaussian_process")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    x, y = _gp_data()
    ell, noise = 0.8, 0.2
    J = _nlml(gg.Tensor(np.log(ell)), gg.Tensor(np.log(noise)), x, y)
    assert J.item() == pytest.approx(_nlml_numpy(np.log(ell), np.log(noise), x, y), rel=1e-12)
    kernel = kernels.RBF(ell) + kernels.WhiteKernel(noise ** 2)
    gp = gaussian_process.GaussianProcessRegressor(kernel, alpha=1e-12, optimizer=None)
    gp.fit(x[:, None], y)
    assert -J.item() == pytest.approx(gp.log_marginal_likelihood_value_, rel=1e-8)
    gg.gradcheck(lambda a, b: _nlml(a, b, x, y), [np.array(0.2), np.array(-1.5)])
    # the posterior mean, by the same solves, is scikit-learn's prediction
    xs = np.linspace(-3, 3, 7)
    K = gg.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / ell ** 2) + noise ** 2 * np.eye(20)
    L = gg.linalg.cholesky(K)
    Ks = np.exp(-0.5 * (x[:, None] - xs[None, :]) ** 2 / ell ** 2)
    mean = Ks.T @ gg.linalg.solve(L.T, gg.linalg.solve(L, y))
    np.testing.assert_allclose(mean.data, gp.predict(xs[:, None]), rtol=1e-8, atol=1e-10)


def test_gp_hyperparameters_fitted_by_adam_are_the_grid_searchs_minimum():
    x, y = _gp_data()
    log_ell = gg.Tensor(np.array(0.0), requires_grad=True)
    log_noise = gg.Tensor(np.array(-1.0), requires_grad=True)
    adam = optim.Adam([log_ell, log_noise], lr=0.05)
    for _ in range(300):
        J = _nlml(log_ell, log_noise, x, y)
        adam.zero_grad()
        J.backward()
        adam.step()
    grid_ell, grid_noise = np.linspace(-1, 1.5, 51), np.linspace(-4, 0, 81)
    G = np.array([[_nlml_numpy(a, b, x, y) for b in grid_noise] for a in grid_ell])
    i, j = np.unravel_index(G.argmin(), G.shape)
    assert abs(log_ell.item() - grid_ell[i]) <= 0.05
    assert abs(log_noise.item() - grid_noise[j]) <= 0.05
    assert J.item() <= G.min() + 1e-6  # no point of the grid is lower
    assert np.hypot(*gg.grad(_nlml(log_ell, log_noise, x, y), [log_ell, log_noise])) < 0.05


def _kalman_nll(log_q, log_r, ys, exp, solve, logdet, inv):
    """The negative log-likelihood of observations ys (T, 1) of a constant-velocity model's
    position, by the Kalman filter's predictions: the same code on tensors and on arrays."""
    F, H = np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([[1.0, 0.0]])
    Q, R = exp(2 * log_q) * np.eye(2), exp(2 * log_r) * np.eye(1)
    m, P, nll = np.zeros((2, 1)), np.eye(2), 0.0
    for y in ys:
        m, P = F @ m, F @ P @ F.T + Q
        S = H @ P @ H.T + R  # the innovation's covariance
        v = y[:, None] - H @ m
        nll = nll + 0.5 * ((v * solve(S, v)).sum() + logdet(S) + np.log(2 * np.pi))
        K = P @ H.T @ inv(S)
        m, P = m + K @ v, P - K @ S @ K.T
    return nll


def test_a_kalman_filters_likelihood_and_its_gradient_are_numpys_and_finite_differences():
    rng = np.random.default_rng(0)
    x, ys = np.zeros(2), []
    for _ in range(30):
        x = np.array([[1.0, 1.0], [0.0, 1.0]]) @ x + rng.standard_normal(2) * [0.1, 0.05]
        ys.append(x[:1] + 0.3 * rng.standard_normal(1))
    ys = np.array(ys)
    by_numpy = _kalman_nll(-2.0, -1.0, ys, np.exp, np.linalg.solve,
                           lambda S: np.linalg.slogdet(S)[1], np.linalg.inv)

    def nll(log_q, log_r):
        return _kalman_nll(log_q, log_r, ys, gg.exp, gg.linalg.solve,
                           lambda S: gg.linalg.slogdet(S)[1], gg.linalg.inv)

    assert nll(gg.Tensor(-2.0), gg.Tensor(-1.0)).item() == pytest.approx(by_numpy, rel=1e-12)
    gg.gradcheck(nll, [np.array(-2.0), np.array(-1.0)])


def _mixture_log_likelihood(X, logits, means, L):
    """log p(x) of each row of X under a mixture of K Gaussians, each covariance L_k L_k^T
    given by a factor L (K, d, d), by batched cholesky, solve and slogdet: (n,)."""
    d = means.shape[1]
    S = L @ gg.swapaxes(L, -1, -2)  # (K, d, d)
    D = X[None, :, :] - means[:, None, :]  # (K, n, d)
    mahalanobis = gg.sum(gg.linalg.solve(gg.linalg.cholesky(S), gg.swapaxes(D, -1, -2)) ** 2,
                         axis=1)  # (K, n)
    log_component = -0.5 * (mahalanobis + gg.linalg.slogdet(S)[1][:, None]
                            + d * np.log(2 * np.pi))
    return gg.logsumexp(log_component + gg.log_softmax(logits, axis=0)[:, None], axis=0)


def test_a_gaussian_mixtures_likelihood_is_scikit_learns_and_em_is_its_stationary_point():
    mixture = pytest.importorskip("sklearn.mixture")
    rng = np.random.default_rng(0)
    X = np.vstack([rng.standard_normal((40, 2)) @ [[1.0, 0.5], [0.0, 0.5]] + [2.0, 0.0],
                   0.7 * rng.standard_normal((30, 2)) - 1.0,
                   rng.standard_normal((30, 2)) * [0.3, 1.5] + [0.0, 3.0]])
    gm = mixture.GaussianMixture(3, random_state=0, tol=1e-12, reg_covar=0.0).fit(X)
    params = [np.log(gm.weights_), gm.means_, np.linalg.cholesky(gm.covariances_)]
    tensors = [gg.Tensor(p, requires_grad=True) for p in params]
    log_p = _mixture_log_likelihood(X, *tensors)
    np.testing.assert_allclose(log_p.data, gm.score_samples(X), rtol=1e-12)
    gg.sum(log_p).backward()
    for name, t in zip(("logits", "means", "factors"), tensors):  # EM's fixed point
        assert np.abs(t.grad).max() < 1e-4, name
    gg.gradcheck(lambda *p: gg.sum(_mixture_log_likelihood(X[:10], *p)), params)


# -- linear and ridge regression -------------------------------------------------------------------
def _regression() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4))
    return X, X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.7 + 0.1 * rng.standard_normal(50)


def test_lstsq_pinv_and_the_normal_equations_agree_with_scikit_learn():
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _regression()
    A = gg.Tensor(np.hstack([X, np.ones((50, 1))]))
    b = y[:, None]
    x1, residuals, rank, s = gg.linalg.lstsq(A, b)
    x2 = gg.linalg.pinv(A) @ b
    x3 = gg.linalg.solve(A.T @ A, A.T @ b)
    np.testing.assert_allclose(x2.data, x1.data, rtol=1e-12)
    np.testing.assert_allclose(x3.data, x1.data, rtol=1e-10)
    reference = linear_model.LinearRegression().fit(X, y)
    np.testing.assert_allclose(x1.data.ravel(), [*reference.coef_, reference.intercept_],
                               rtol=1e-10)
    assert rank == 5
    np.testing.assert_allclose(residuals.data, [np.sum((A.data @ x1.data - b) ** 2)],
                               rtol=1e-10)
    np.testing.assert_allclose(s.data, np.linalg.svd(A.data, compute_uv=False), rtol=1e-12)
    # the fit's sensitivity to the data: d|x|^2/dA and d|x|^2/db against finite differences
    gg.gradcheck(lambda a, t: gg.sum(gg.linalg.lstsq(a, t)[0] ** 2), [A.data[:8], b[:8]])


def test_ridge_closed_form_is_the_minimum_found_by_gradient_descent():
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _regression()
    lam = 0.5
    W = gg.Tensor(np.zeros((4, 1)), requires_grad=True)
    c = gg.Tensor(np.zeros(1), requires_grad=True)
    sgd = optim.SGD([W, c], lr=0.1)
    for _ in range(500):
        J = gg.mean((X @ W + c - y[:, None]) ** 2) + lam / 50 * gg.sum(W ** 2)
        sgd.zero_grad()
        J.backward()
        sgd.step()
    Xc = X - X.mean(axis=0)
    closed = gg.linalg.solve(gg.Tensor(Xc.T @ Xc) + lam * np.eye(4), Xc.T @ (y - y.mean()))
    np.testing.assert_allclose(W.data.ravel(), closed.data, rtol=1e-8)
    reference = linear_model.Ridge(alpha=lam).fit(X, y)
    np.testing.assert_allclose(closed.data, reference.coef_, rtol=1e-12)
    assert c.item() == pytest.approx(reference.intercept_, rel=1e-8)


# -- imbalanced classification: one digit against the rest ----------------------------------------
def _one_against_the_rest() -> tuple[np.ndarray, ...]:
    X, target = _digits()
    y = (target == 8).astype(float)  # about a tenth of the examples
    return X[:600], y[:600], X[600:1200], y[600:1200]


def _recall_and_precision(predicted: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    hits = (predicted & (y == 1)).sum()
    return hits / (y == 1).sum(), hits / max(predicted.sum(), 1)


def test_pos_weight_raises_the_rare_classs_recall_and_its_loss_is_pytorchs_by_hand():
    Xtr, ytr, Xte, yte = _one_against_the_rest()
    pos_weight = np.array([(1 - ytr.mean()) / ytr.mean()])  # negatives per positive, ~9

    def train(weight):
        model = nn.Linear(64, 1, rng=0)
        adam = optim.Adam(model.parameters(), lr=0.05)
        for _ in range(150):
            J = nn.binary_cross_entropy_with_logits(model(Xtr), ytr[:, None], pos_weight=weight)
            adam.zero_grad()
            J.backward()
            adam.step()
        return model

    plain, weighted = train(None), train(pos_weight)
    with gg.no_grad():
        recall, precision = _recall_and_precision(plain(Xte).data.ravel() > 0, yte)
        recall_w, precision_w = _recall_and_precision(weighted(Xte).data.ravel() > 0, yte)
    assert recall_w > recall + 0.05 and precision_w < precision  # the trade the weight makes
    # PyTorch's formula: -mean(pos_weight y log s(z) + (1 - y) log(1 - s(z)))
    z = weighted(Xte).data
    yy = yte[:, None]
    by_hand = -np.mean(pos_weight * yy * -np.logaddexp(0, -z) + (1 - yy) * -np.logaddexp(0, z))
    J = nn.binary_cross_entropy_with_logits(weighted(Xte), yy, pos_weight=pos_weight)
    assert J.item() == pytest.approx(by_hand, rel=1e-12)


def test_class_weights_in_cross_entropy_raise_recall_and_the_mean_divides_by_their_sum():
    Xtr, ytr, Xte, yte = _one_against_the_rest()
    labels = ytr.astype(int)
    weight = np.array([1.0, 9.0])

    def train(weight):
        model = nn.Linear(64, 2, rng=0)
        adam = optim.Adam(model.parameters(), lr=0.05)
        for _ in range(150):
            J = nn.cross_entropy(model(Xtr), labels, weight=weight)
            adam.zero_grad()
            J.backward()
            adam.step()
        return model

    plain, weighted = train(None), train(weight)
    with gg.no_grad():
        recall, _ = _recall_and_precision(plain(Xte).data.argmax(axis=1) == 1, yte)
        recall_w, _ = _recall_and_precision(weighted(Xte).data.argmax(axis=1) == 1, yte)
    assert recall_w > recall + 0.05
    # PyTorch's weighted mean: sum_i w[y_i] nll_i / sum_i w[y_i]; with label smoothing eps,
    # (1 - eps) of it plus eps/C sum_i sum_c w[c] (-log p_ic) / sum_i w[y_i]
    Z = weighted(Xtr)
    logp = np.log(_softmax(Z.data))
    w_y = weight[labels]
    nll = -logp[np.arange(600), labels]
    J = nn.cross_entropy(Z, labels, weight=weight)
    assert J.item() == pytest.approx((w_y * nll).sum() / w_y.sum(), rel=1e-12)
    eps = 0.1
    J = nn.cross_entropy(Z, labels, weight=weight, label_smoothing=eps)
    smooth = -(logp * weight).sum() / 2 / w_y.sum()
    assert J.item() == pytest.approx((1 - eps) * (w_y * nll).sum() / w_y.sum() + eps * smooth,
                                     rel=1e-12)


def _newton(cost, theta: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Newton's method, its Hessian row by row by a second backward; the step by lstsq, so
    a Hessian singular along a direction the cost ignores (softmax's common shift of the
    intercepts) takes the least step."""
    for _ in range(steps):
        t = gg.Tensor(theta, requires_grad=True)
        (g,) = gg.grad(cost(t), [t], create_graph=True)
        n = len(theta)
        H = np.stack([gg.grad(g[i], [t], retain_graph=i < n - 1)[0] for i in range(n)])
        theta = theta - gg.linalg.lstsq(H, g.data)[0].data
    return theta, g.data


def test_weighted_logistic_regression_by_newtons_method_is_scikit_learns():
    """scikit-learn minimises C sum_i w[y_i] loss_i + |coef|^2 / 2: pos_weight = w[1] / w[0]
    and reduction="sum" is that loss, whose Hessian comes from a second backward."""
    decomposition = pytest.importorskip("sklearn.decomposition")
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, target = _digits()
    Z = decomposition.PCA(5).fit_transform(X[:500])
    y = (target[:500] == 8).astype(float)

    def cost(theta):
        z = Z @ theta[:5] + theta[5]
        return (nn.binary_cross_entropy_with_logits(z[:, None], y[:, None], reduction="sum",
                                                    pos_weight=np.array([9.0]))
                + 0.5 * gg.sum(theta[:5] ** 2))

    theta, g = _newton(cost, np.zeros(6), 6)
    assert np.abs(g).max() < 1e-9  # quadratic convergence
    reference = linear_model.LogisticRegression(C=1.0, class_weight={0: 1, 1: 9}, tol=1e-12,
                                                max_iter=10_000).fit(Z, y)
    np.testing.assert_allclose(theta, [*reference.coef_[0], *reference.intercept_], rtol=1e-6)


def test_class_weighted_softmax_regression_by_newtons_method_is_scikit_learns():
    decomposition = pytest.importorskip("sklearn.decomposition")
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, target = _digits()
    Z = decomposition.PCA(4).fit_transform(X[:400])
    labels = np.where(target[:400] == 8, 2, np.where(target[:400] == 3, 1, 0))
    weight = np.array([1.0, 4.0, 9.0])

    def cost(theta):
        W, b = theta[:12].reshape(4, 3), theta[12:]
        return (nn.cross_entropy(Z @ W + b, labels, weight=weight, reduction="sum")
                + 0.5 * gg.sum(W ** 2))

    theta, g = _newton(cost, np.zeros(15), 10)
    assert np.abs(g).max() < 1e-9
    reference = linear_model.LogisticRegression(C=1.0, class_weight=dict(enumerate(weight)),
                                                tol=1e-12, max_iter=10_000).fit(Z, labels)
    np.testing.assert_allclose(theta[:12].reshape(4, 3), reference.coef_.T, atol=1e-6)
    np.testing.assert_allclose(_softmax(Z @ theta[:12].reshape(4, 3) + theta[12:]),
                               reference.predict_proba(Z), atol=1e-6)


# -- label smoothing's minimum ---------------------------------------------------------------------
def _minimise_over_logits(y: np.ndarray, C: int, steps: int, **options) -> gg.Tensor:
    Z = gg.Tensor(np.zeros((len(y), C)), requires_grad=True)
    sgd = optim.SGD([Z], lr=2.0)
    for _ in range(steps):
        J = nn.cross_entropy(Z, y, **options)
        sgd.zero_grad()
        J.backward()
        sgd.step()
    return J, Z


def test_the_smoothed_loss_is_least_at_the_smoothed_distribution_its_entropy():
    C, eps = 5, 0.2
    y = np.array([0, 3, 4, 1])
    J, Z = _minimise_over_logits(y, C, 400, label_smoothing=eps)
    q = np.full((4, C), eps / C)
    q[np.arange(4), y] += 1 - eps
    np.testing.assert_allclose(_softmax(Z.data), q, atol=1e-10)
    assert J.item() == pytest.approx(-(q * np.log(q)).sum(axis=1).mean(), rel=1e-12)
    # the gap between the target's logit and the others' is log((1 - eps + eps/C) / (eps/C))
    gap = Z.data[np.arange(4), y] - Z.data[np.arange(4), (y + 1) % C]
    np.testing.assert_allclose(gap, np.log((1 - eps + eps / C) / (eps / C)), rtol=1e-8)


def test_with_class_weights_the_smoothed_minimum_weights_each_class_as_pytorch_does():
    """PyTorch weights the uniform part's class c by w[c], not by the target's weight, so the
    minimum is at p_c proportional to (1 - eps) w[y] [c = y] + eps w[c] / C."""
    C, eps = 5, 0.2
    y = np.array([0, 3, 4, 1])
    weight = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    J, Z = _minimise_over_logits(y, C, 1500, label_smoothing=eps, weight=weight)
    r = np.tile(eps * weight / C, (4, 1))
    r[np.arange(4), y] += (1 - eps) * weight[y]
    np.testing.assert_allclose(_softmax(Z.data), r / r.sum(axis=1, keepdims=True), atol=1e-6)


# -- a multi-task model: ModuleDict heads, a state_dict round trip, float32 ------------------------
class _MultiTask(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(64, 32, rng=1), nn.Tanh())
        self.heads = nn.ModuleDict({"digit": nn.Linear(32, 10, rng=2),
                                    "parity": nn.Linear(32, 1, rng=3)})
        self.neck = nn.Identity()  # a place for a layer later

    def forward(self, X, task):
        return self.heads[task](self.neck(self.trunk(X)))


def _train_alternately(model, optimizer, X, labels, steps=40):
    costs = []
    for i in range(steps):
        if i % 2 == 0:
            J = nn.cross_entropy(model(X, "digit"), labels)
        else:
            J = nn.binary_cross_entropy_with_logits(model(X, "parity"),
                                                    (labels % 2)[:, None].astype(X.dtype))
        optimizer.zero_grad()
        J.backward()
        optimizer.step()
        costs.append(J)
    return costs


def test_multi_task_heads_trained_alternately_in_float32_follow_the_float64_run():
    X, labels = _digits()
    X, labels = X[:256], labels[:256]
    model = _MultiTask()
    assert [name for name, _ in model.named_parameters()] == [
        "trunk.linear1.W", "trunk.linear1.b", "heads.digit.W", "heads.digit.b",
        "heads.parity.W", "heads.parity.b"]
    copy = _MultiTask()
    for p in copy.parameters():
        p.data[...] = 0
    copy.load_state_dict(model.state_dict())
    for (name, p), q in zip(model.named_parameters(), copy.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    adam32 = optim.Adam(copy.parameters(), lr=1e-2)  # made before .float(), as PyTorch allows
    assert copy.float() is copy
    visited = []

    def init_biases(m):  # as Module.apply's docstring: new arrays in the weights' dtype
        visited.append(type(m).__name__)
        if isinstance(m, nn.Linear):
            m.b.data = np.full(m.b.shape, 0.01).astype(m.b.dtype)

    assert copy.apply(init_biases) is copy
    assert visited == ["Linear", "Tanh", "Sequential", "Linear", "Linear", "ModuleDict",
                       "Identity", "_MultiTask"]  # children first
    model.apply(init_biases)  # the float64 run starts from the same biases
    costs64 = _train_alternately(model, optim.Adam(model.parameters(), lr=1e-2), X, labels)
    costs32 = _train_alternately(copy, adam32, X.astype(np.float32), labels)
    assert costs64[-2].item() < costs64[0].item() / 4  # the digit head learned
    assert {J.dtype for J in costs64} == {np.dtype(np.float64)}
    assert {J.dtype for J in costs32} == {np.dtype(np.float32)}
    assert {p.dtype for p in copy.parameters()} == {np.dtype(np.float32)}
    assert all(p.grad.dtype == np.float32 for p in copy.parameters() if p.grad is not None)
    for state in adam32.state_dict().values():
        if isinstance(state, np.ndarray) and state.dtype.kind == "f":
            assert state.dtype == np.float32
    np.testing.assert_allclose([J.item() for J in costs32], [J.item() for J in costs64],
                               rtol=1e-4)
    for (name, p), q in zip(model.named_parameters(), copy.parameters()):
        np.testing.assert_allclose(q.data, p.data, atol=1e-4, err_msg=name)
    # back to float64 from the float32 weights: the same function, to float32's precision
    reloaded = _MultiTask()
    reloaded.load_state_dict(copy.state_dict())
    assert reloaded.heads["digit"].W.dtype == np.float64
    with gg.no_grad():
        np.testing.assert_allclose(reloaded(X, "parity").data, copy(X, "parity").data,
                                   atol=1e-5)


# -- a character RNN with its gradients clipped in place ------------------------------------------
class _CharRNN(nn.Module):
    def __init__(self, C: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(C, 16, rng=0)
        self.out = nn.Linear(16, C, rng=1)

    def forward(self, X):
        return self.out(self.rnn(X))


def test_clipping_grad_in_place_with_np_clip_is_clip_grad_value():
    text = "hello world, hello graph. " * 4
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    starts = np.arange(0, len(ids) - 13, 7)
    X = np.eye(len(chars))[np.stack([ids[s:s + 12] for s in starts])]  # (m, 12, C)
    Y = np.stack([ids[s + 1:s + 13] for s in starts])

    def train(clip):
        model = _CharRNN(len(chars))
        sgd = optim.SGD(model.parameters(), lr=0.5)
        costs = []
        for _ in range(30):
            sgd.zero_grad()
            J = nn.cross_entropy(model(X), Y)
            J.backward()
            clip(model)
            sgd.step()
            costs.append(J.item())
        return model, costs

    clipped_first = []

    def in_place(model):  # the course's clip(gradients, maxValue), on the leaves' own .grad
        for p in model.parameters():
            before = p.grad.copy()
            out = np.clip(p.grad, -0.05, 0.05, out=p.grad)
            assert out is p.grad
            np.testing.assert_array_equal(p.grad, np.clip(before, -0.05, 0.05))
            clipped_first.append((np.abs(before) > 0.05).sum())

    a, costs_a = train(in_place)
    b, costs_b = train(lambda model: optim.clip_grad_value(model.parameters(), 0.05))
    assert sum(clipped_first[:4]) > 0  # the clip did something in the first step
    assert costs_a == costs_b and costs_a[-1] < costs_a[0] / 3
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


# -- standardising data with holes -----------------------------------------------------------------
def _data_with_holes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4)) * [1, 2, 3, 4] + [0, 1, 2, 3]
    X[rng.random((30, 4)) < 0.2] = np.nan
    return X, rng.standard_normal((30, 1)), rng.standard_normal((4, 1))


def _standardised(X):
    """(X - nanmean) / nanstd of each column, the holes filled with 0 (the column's mean)
    before the division, so no NaN meets the gradient of the scale."""
    centred = X - gg.nanmean(X, axis=0)
    return gg.where(np.isnan(X.data), 0.0, centred) / gg.nanstd(X, axis=0)


def test_nan_standardisation_is_numpys_and_the_models_gradient_is_by_hand():
    X, y, w = _data_with_holes()
    Z = np.nan_to_num((X - np.nanmean(X, axis=0)) / np.nanstd(X, axis=0))
    W = gg.Tensor(w, requires_grad=True)
    J = gg.mean((_standardised(gg.Tensor(X)) @ W - y) ** 2)
    assert J.item() == pytest.approx(np.mean((Z @ w - y) ** 2), rel=1e-12)
    J.backward()
    np.testing.assert_allclose(W.grad, 2 * Z.T @ (Z @ w - y) / 30, rtol=1e-12)
    # numpy's calls on a tensor run the same ops
    np.testing.assert_allclose(np.nanstd(gg.Tensor(X), axis=0).data, np.nanstd(X, axis=0))


def test_the_gradient_through_nan_standardisation_is_finite_differences_at_the_observed():
    X, y, w = _data_with_holes()
    holes = np.isnan(X)

    def cost(values):
        return gg.mean((_standardised(gg.where(holes, np.nan, values)) @ w - y) ** 2)

    observed = np.nan_to_num(X)
    result = gg.gradcheck(cost, [observed])
    assert result
    x = gg.Tensor(observed, requires_grad=True)
    cost(x).backward()
    assert np.isfinite(x.grad).all() and (x.grad[holes] == 0).all()


# -- integrals and derivatives on grids ------------------------------------------------------------
def test_trapezoid_over_a_meshgrid_integrates_a_gaussian_and_its_width_gradient():
    """The integral of exp(-(x^2 + y^2) / (2 s^2)) over the plane is 2 pi s^2, so its
    derivative in s is 4 pi s."""
    s = gg.Tensor(np.array(0.7), requires_grad=True)
    grid = np.linspace(-6, 6, 121)
    X, Y = np.meshgrid(gg.Tensor(grid), gg.Tensor(grid), indexing="xy")
    assert isinstance(X, gg.Tensor) and X.shape == (121, 121)
    f = gg.exp(-(X ** 2 + Y ** 2) / (2 * s ** 2))
    area = gg.trapezoid(gg.trapezoid(f, grid, axis=1), grid)
    assert area.item() == pytest.approx(2 * np.pi * 0.49, rel=1e-10)
    area.backward()
    assert s.grad == pytest.approx(4 * np.pi * 0.7, rel=1e-8)


def test_np_gradient_of_a_field_is_its_derivative_and_its_adjoint_by_hand():
    x = np.linspace(0, np.pi, 41)
    y = np.linspace(0, 1, 21)
    amplitude = gg.Tensor(np.array(2.0), requires_grad=True)
    field = amplitude * gg.Tensor(np.sin(x)[None, :] * np.exp(y)[:, None])  # (21, 41)
    d_dy, d_dx = np.gradient(field, y, x)
    np.testing.assert_allclose(d_dx.data, np.gradient(field.data, x, axis=1))
    # second-order accurate inside: cos(x) exp(y) to O(h^2)
    inside = (slice(1, -1), slice(1, -1))
    np.testing.assert_allclose(d_dx.data[inside],
                               2 * (np.cos(x)[None, :] * np.exp(y)[:, None])[inside],
                               atol=(x[1] - x[0]) ** 2)
    # a loss of the derivative: its gradient in the amplitude is linear, the loss / amplitude
    J = gg.sum(d_dx * d_dy)
    J.backward()
    assert amplitude.grad == pytest.approx(2 * J.item() / 2.0, rel=1e-12)
    gg.gradcheck(lambda f: gg.sum(np.gradient(f, x[:6], axis=1) ** 2), [field.data[:3, :6]])


def test_survival_by_cumprod_and_discounted_returns_against_a_loop():
    """P(alive after step t) = prod_{k<=t} (1 - h_k) with h = sigmoid(z); its gradient against
    finite differences, and the expected lifetime as the sum of survivals."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal(8)
    h = 1 / (1 + np.exp(-z))
    survival = gg.cumprod(1 - gg.sigmoid(gg.Tensor(z)))
    by_loop = []
    alive = 1.0
    for hazard in h:
        alive *= 1 - hazard
        by_loop.append(alive)
    np.testing.assert_allclose(survival.data, by_loop, rtol=1e-12)
    gg.gradcheck(lambda t: gg.sum(gg.cumprod(1 - gg.sigmoid(t))), [z])
    assert gg.sum(survival).item() == pytest.approx(sum(by_loop), rel=1e-12)


def test_a_decorrelating_map_learned_through_corrcoef_whitens_the_features():
    """Features mixed by a known matrix; a map learned by minimising the squared
    off-diagonal correlations of its outputs leaves them uncorrelated, and corrcoef and cov
    are numpy's at every point."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)) @ np.array([[1.0, 0.8, 0.3], [0.0, 1.0, 0.5],
                                                  [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(gg.corrcoef(X, rowvar=False).data,
                               np.corrcoef(X, rowvar=False), rtol=1e-12)
    M = gg.Tensor(np.eye(3), requires_grad=True)
    adam = optim.Adam([M], lr=0.02)
    for _ in range(200):
        R = gg.corrcoef(X @ M, rowvar=False)
        J = gg.sum((R - gg.Tensor(np.eye(3))) ** 2)
        adam.zero_grad()
        J.backward()
        adam.step()
    assert J.item() < 1e-4
    np.testing.assert_allclose(np.corrcoef(X @ M.data, rowvar=False), np.eye(3), atol=1e-2)
    gg.gradcheck(lambda m: gg.sum(gg.cov(X[:12] @ m, rowvar=False) ** 2), [M.data])
