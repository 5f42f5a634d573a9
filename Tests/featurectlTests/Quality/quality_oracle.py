"""featurectl profile and drift against numpy and scipy on seeded, hostile data written by pyarrow.

    python quality_oracle.py FEATURECTL WORKDIR

Profiles: counts, nulls, NaN, infinities, min and max exact; the mean within 1e-12 of the exact mean (math.fsum);
the spread within 1e-9 of numpy's std; quantiles within the sketch's stated 1% of numpy's (method "lower");
value counts exact by bytes (two Unicode spellings are two values). Drift: PSI recomputed with numpy on the
reported edges, KS against scipy.stats.ks_2samp, Jensen-Shannon against scipy.spatial.distance.jensenshannon;
identical distributions near zero; a shifted mean, a new category and a null spike over their thresholds.
Prints "profile: ok" and "drift: ok".
"""
import collections
import json
import math
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

featurectl, work = sys.argv[1], sys.argv[2]
repo = os.path.join(work, "repo")
os.makedirs(repo, exist_ok=True)
with open(os.path.join(repo, "feature_store.yaml"), "w") as f:
    f.write("project: quality\n")


def run(*args: str, ok=(0,)) -> tuple[int, str]:
    done = subprocess.run([featurectl, *args, "--repo", repo], capture_output=True, text=True)
    assert done.returncode in ok, (args, done.returncode, done.stdout, done.stderr)
    return done.returncode, done.stdout


# --- Profiles on hostile values ---------------------------------------------------------------------------------
rng = np.random.default_rng(28)
n = 5000
floats = rng.normal(3.0, 2.0, n).tolist()
for i, v in enumerate([float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 1e300, -1e300, 5e-324, None, None]):
    floats[i * 7] = v
ints = rng.integers(-50, 50, n).tolist()
for i, v in enumerate([2**63 - 1, -(2**63), 0, None]):
    ints[i * 11 + 3] = v
words = ["caf\u00e9", "cafe\u0301", "", "a\x00b", "plain", None]
strings = [words[k] for k in rng.integers(0, len(words), n)]
bools = [None if k == 2 else bool(k) for k in rng.integers(0, 3, n)]
path = os.path.join(work, "hostile.parquet")
pq.write_table(pa.table({"f": pa.array(floats, pa.float64()), "i": pa.array(ints, pa.int64()), "s": pa.array(strings, pa.string()),
                         "b": pa.array(bools, pa.bool_())}), path)
_, out = run("profile", path, "--json")
profiles = {p["column"]: p for p in json.loads(out)}


def check_numbers(name: str, values: list) -> None:
    p = profiles[name]
    present = [v for v in values if v is not None]
    finite = [v for v in present if math.isfinite(v)]
    assert p["count"] == len(values) and p["nulls"] == values.count(None), (name, p)
    assert p["nan"] == sum(1 for v in present if v != v) and p["infinite"] == sum(1 for v in present if v == v and math.isinf(v)), (name, p)
    assert p["min"] == min(float(v) for v in finite) and p["max"] == max(float(v) for v in finite), (name, p["min"], p["max"])
    exact_mean = math.fsum(float(v) for v in finite) / len(finite)
    assert math.isclose(p["mean"], exact_mean, rel_tol=1e-12, abs_tol=1e-300), (name, p["mean"], exact_mean)
    with np.errstate(over="ignore"):
        std = float(np.std(np.array(finite, dtype=np.float64)))
    stddev = float(p["stddev"])  # "Infinity" when the squares overflow, as numpy's
    assert math.isclose(stddev, std, rel_tol=1e-9) or (math.isinf(stddev) and math.isinf(std)), (name, p["stddev"], std)
    for q, estimate in p["quantiles"].items():
        truth = float(np.quantile(np.array(finite, dtype=np.float64), float(q), method="lower"))
        assert abs(estimate - truth) <= 0.01 * abs(truth) + 1e-300, (name, q, estimate, truth)


check_numbers("f", floats)
check_numbers("i", ints)
for name, values in (("s", strings), ("b", bools)):
    p = profiles[name]
    counts = collections.Counter(("true" if v else "false") if isinstance(v, bool) else v for v in values if v is not None)
    got = {t["value"].encode(): t["count"] for t in p["top"]}
    assert got == {k.encode(): c for k, c in counts.most_common(10)}, (name, got, counts)
    assert p["nulls"] == values.count(None) and p["count"] == len(values), (name, p)
assert sum(1 for t in profiles["s"]["top"] if t["value"] in ("caf\u00e9", "cafe\u0301")) == 2, "two spellings, two values"
print("profile: ok")

# --- Drift -----------------------------------------------------------------------------------------------------
def write(name: str, table: dict) -> str:
    p = os.path.join(work, name)
    pq.write_table(pa.table(table), p)
    return p


def dataset(seed: int, rows: int = 20000, shift: float = 0.0, nulls: float = 0.0, new_category: bool = False) -> dict:
    r = np.random.default_rng(seed)
    x = (r.normal(10.0, 3.0, rows) + shift).tolist()
    for i in range(int(rows * nulls)):
        x[i] = None
    cats = ["red", "green", "blue"] + (["violet"] * 3 if new_category else [])
    c = [cats[k] for k in r.integers(0, len(cats), rows)]
    return {"x": pa.array(x, pa.float64()), "c": pa.array(c, pa.string())}


base_data = dataset(1)
base = write("base.parquet", base_data)
cases = {
    "same": (dataset(2), set()),
    "shifted": (dataset(3, shift=1.5), {"x"}),
    "new_category": (dataset(4, new_category=True), {"c"}),
    "null_spike": (dataset(5, nulls=0.3), {"x"}),
}
for case, (data, drifted) in cases.items():
    current = write(f"{case}.parquet", data)
    code, out = run("drift", "--baseline", base, "--current", current, "--json", ok=(0, 3))
    results = {d["column"]: d for d in json.loads(out)}
    over = {name for name, d in results.items() if d["breaches"]}
    assert over == drifted and code == (3 if drifted else 0), (case, over, code, results)
    b = [v for v in base_data["x"].to_pylist()]
    c = [v for v in data["x"].to_pylist()]
    bf = np.array([v for v in b if v is not None]); cf = np.array([v for v in c if v is not None])
    x = results["x"]
    edges = np.array(x["edges"])
    assert np.allclose(edges, np.quantile(bf, np.arange(1, 10) / 10), rtol=0, atol=1e-12), (case, edges)
    pb = np.bincount(np.searchsorted(edges, bf, side="right"), minlength=len(edges) + 1).astype(float)
    pc = np.bincount(np.searchsorted(edges, cf, side="right"), minlength=len(edges) + 1).astype(float)
    missing_b, missing_c = b.count(None), c.count(None)
    if missing_b + missing_c:
        pb = np.append(pb, missing_b); pc = np.append(pc, missing_c)
    pb, pc = np.maximum(pb / len(b), 1e-4), np.maximum(pc / len(c), 1e-4)
    psi = float(np.sum((pc - pb) * np.log(pc / pb)))
    assert math.isclose(x["psi"], psi, rel_tol=1e-9, abs_tol=1e-12), (case, x["psi"], psi)
    ks = float(ks_2samp(bf, cf).statistic)
    assert math.isclose(x["ks"], ks, rel_tol=1e-12, abs_tol=1e-15), (case, x["ks"], ks)
    bc = collections.Counter(base_data["c"].to_pylist()); cc = collections.Counter(data["c"].to_pylist())
    keys = sorted(set(bc) | set(cc))
    js = float(jensenshannon([bc[k] for k in keys], [cc[k] for k in keys], base=2))
    assert math.isclose(results["c"]["js"], js, rel_tol=1e-9, abs_tol=1e-12), (case, results["c"]["js"], js)
    if case == "same":
        assert x["psi"] < 0.02 and x["ks"] < 0.03 and results["c"]["js"] < 0.02, (case, x, results["c"])
print("drift: ok")
