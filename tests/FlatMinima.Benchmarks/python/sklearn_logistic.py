"""Baseline for `flatminima-bench erm`: scikit-learn's lbfgs logistic regression on the exact same data.

Reads X (P x N, float64, already divided by sqrt(N)) and y from raw little-endian files, fits
LogisticRegression(C=1/lambda, tol, fit_intercept=True) several times and prints one JSON line with the best
wall time and the per-sample gradient inf-norm actually reached (scikit-learn's own convergence test is on a
scaled objective and usually stops far above the requested tol).
"""
import json
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

x_path, y_path, p, n, lam, tol, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
X = np.fromfile(x_path, dtype="<f8").reshape(p, n)
y = np.fromfile(y_path, dtype="<f8")
times = []
for _ in range(reps):
    t = time.perf_counter()
    m = LogisticRegression(C=1.0 / lam, tol=tol, max_iter=100000).fit(X, y)
    times.append(time.perf_counter() - t)
w, b = m.coef_[0], m.intercept_[0]
u = y * (X @ w + b)
s = 1.0 / (1.0 + np.exp(u))
g = np.concatenate([-(X.T @ (y * s)) + lam * w, [-(y * s).sum()]]) / p
import sklearn
print(json.dumps({"best_seconds": min(times), "median_seconds": float(np.median(times)), "iterations": int(m.n_iter_[0]),
                  "grad_inf_norm": float(np.abs(g).max()), "sklearn": sklearn.__version__, "numpy": np.__version__}))
