"""Peer side of `FlatMinima.Benchmarks peers`: the same ERM problems solved by numpy and scikit-learn on the same data.

usage: peers.py ESTIMATOR DIR SEEDS LAMBDA TOL INTERCEPT_SCALING

Reads DIR/a{k}.npy (P x N float64, the inputs already divided by sqrt(N)) and DIR/y{k}.npy (labels +-1) for
k = 0..SEEDS-1, solves min_w,b  sum_mu loss(y (w.a + b)) + (lambda/2)|w|^2 with the bias unpenalised, writes
DIR/peer_w{k}.npy (w followed by b) and prints one JSON object: wall seconds of each phase, iterations, the BLAS
numpy uses (np.show_config and threadpoolctl, when importable), versions and the peak resident memory.

- square: centring and numpy.linalg.solve of (Ac^T Ac + lambda I) w = Ac^T (y - ybar), b = ybar - abar.w.
- logistic: sklearn LogisticRegression(solver="lbfgs", C=1/lambda): sklearn minimises C sum loss + |w|^2/2 with
  the intercept unpenalised, i.e. our objective divided by lambda.
- hinge: sklearn LinearSVC(loss="hinge", dual=True, C=1/lambda, intercept_scaling=s): liblinear appends a constant
  feature s and penalises its weight, i.e. it adds (lambda/2)(b/s)^2 to our objective; a large s makes that term
  negligible (the benchmark reports the objective each side reaches on our objective).
"""
import contextlib
import io
import json
import resource
import sys
import time

t_start = time.perf_counter()
import numpy as np  # noqa: E402

estimator, folder, seeds, lam, tol, scaling = (sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
                                               float(sys.argv[5]), float(sys.argv[6]))
if estimator != "square":
    import sklearn  # noqa: E402
    from sklearn.linear_model import LogisticRegression  # noqa: E402
    from sklearn.svm import LinearSVC  # noqa: E402
t_imported = time.perf_counter()

load_s, fit_s, iterations = [], [], []
for k in range(seeds):
    t0 = time.perf_counter()
    a = np.load(f"{folder}/a{k}.npy")
    y = np.load(f"{folder}/y{k}.npy")
    t1 = time.perf_counter()
    if estimator == "square":
        a_mean = a.mean(axis=0)
        y_mean = y.mean()
        ac = a - a_mean
        gram = np.dot(ac.T, ac)  # numpy calls dsyrk for a.T @ a on one buffer
        gram[np.diag_indices_from(gram)] += lam
        w = np.linalg.solve(gram, ac.T @ (y - y_mean))
        b = y_mean - a_mean @ w
        del ac, gram
        iterations.append(1)
    elif estimator == "logistic":
        m = LogisticRegression(solver="lbfgs", C=1.0 / lam, tol=tol, max_iter=100000).fit(a, y)
        w, b = m.coef_[0], m.intercept_[0]
        iterations.append(int(m.n_iter_[0]))
    elif estimator == "hinge":
        m = LinearSVC(loss="hinge", dual=True, C=1.0 / lam, tol=tol, max_iter=10_000_000,
                      intercept_scaling=scaling).fit(a, y)
        w, b = m.coef_[0], m.intercept_[0]
        iterations.append(int(np.max(m.n_iter_)))
    else:
        raise SystemExit(f"unknown estimator {estimator}")
    fit_s.append(time.perf_counter() - t1)
    load_s.append(t1 - t0)
    np.save(f"{folder}/peer_w{k}.npy", np.concatenate([w, [b]]))
    del a, y

config = io.StringIO()
with contextlib.redirect_stdout(config):
    np.show_config()
blas = [line.strip() for line in config.getvalue().splitlines() if "libraries" in line or "openblas" in line.lower()]
try:
    from threadpoolctl import threadpool_info
    pools = [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer", "architecture", "filepath")}
             for d in threadpool_info()]
except ImportError:
    pools = None
print(json.dumps({
    "estimator": estimator, "import_seconds": t_imported - t_start, "load_seconds": load_s, "fit_seconds": fit_s,
    "iterations": iterations, "numpy": np.__version__,
    "sklearn": None if estimator == "square" else sklearn.__version__,
    "numpy_blas": blas, "threadpoolctl": pools,
    # VmHWM, not ru_maxrss: the latter survives exec and so includes the RSS of the process that started this one.
    "peak_rss_bytes": next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:")),
    "cpu_seconds": resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime,
}))
