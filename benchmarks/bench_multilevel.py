"""Three-level REML (rma.mv with study/es_id) with CR2 robust tests: over every analysis of the
illustrative review, with several effects for a share of its studies, and on 930 studies with 3 effects
each.

    python benchmarks/bench_multilevel.py

The review's own effects (one per study and analysis) come from its data; each study gets, with
probability 0.35, one to three more effects (other instruments and time points) near its own, so that
the analyses have the shape a multilevel synthesis would meet. Best of 3 runs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from erh_report.analysis.model import ModelError
from erh_report.analysis.multilevel import fit_multilevel
from erh_report.analysis.robust import robust_multilevel

ROOT = Path(__file__).resolve().parents[1]
SHARE_WITH_MORE = 0.35
RUNS = 3


def with_more_effects(yi: np.ndarray, vi: np.ndarray, rng: np.random.Generator):
    """Each study keeps its effect; a share of them gains 1 to 3 more, correlated with it."""
    ys, vs, study = [], [], []
    for j, (y, v) in enumerate(zip(yi, vi, strict=True)):
        extra = rng.integers(1, 4) if rng.random() < SHARE_WITH_MORE else 0
        ys += [y, *(y + rng.normal(0, 0.15, extra))]
        vs += [v, *(v * rng.uniform(0.8, 1.25, extra))]
        study += [j] * (1 + extra)
    return np.array(ys), np.array(vs), np.array(study)


def review_analyses(rng: np.random.Generator) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    from erh_report.data import load_review
    from erh_report.synthesis import study_effects

    review = load_review(ROOT / "data")
    out = []
    for analysis in review.analyses:
        effects = study_effects(review, analysis, review.selections[analysis.id])
        if len(effects) < 2:
            continue
        out.append((analysis.id, *with_more_effects(effects["yi"].to_numpy(), effects["vi"].to_numpy(), rng)))
    return out


def simulated(n_studies: int, per_study: int, rng: np.random.Generator):
    study = np.repeat(np.arange(n_studies), per_study)
    vi = rng.uniform(0.01, 0.12, study.size)
    yi = 0.3 + rng.normal(0, 0.2, n_studies)[study] + rng.normal(0, 0.12, study.size) + rng.normal(0, np.sqrt(vi))
    return yi, vi, study


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    rng = np.random.default_rng(2026)
    analyses = review_analyses(rng)
    fitted = []

    def fit_review(robust: bool) -> None:
        fitted.clear()
        for _, y, v, s in analyses:
            try:
                res = fit_multilevel(y, v, s)
            except ModelError:  # e.g. no study with more than one effect
                continue
            fitted.append(res)
            if robust:
                robust_multilevel(res)

    n_effects = sum(len(y) for _, y, _, _ in analyses)
    n_studies = sum(len(np.unique(s)) for _, _, _, s in analyses)
    t_fit = best_of(RUNS, lambda: fit_review(False))
    t_both = best_of(RUNS, lambda: fit_review(True))
    print(
        f"illustrative review: {len(analyses)} analyses, {n_studies} study-analysis pairs, {n_effects} effects, "
        f"{len(fitted)} fitted"
    )
    per = t_fit / len(fitted) * 1000
    print(f"  multilevel REML, all analyses:           {t_fit:.3f} s ({per:.1f} ms per analysis)")
    print(f"  multilevel REML + CR2 robust, all:       {t_both:.3f} s")

    yi, vi, study = simulated(930, 3, rng)
    holder = {}
    t_big = best_of(RUNS, lambda: holder.update(res=fit_multilevel(yi, vi, study)))
    t_rob = best_of(RUNS, lambda: robust_multilevel(holder["res"]))
    res = holder["res"]
    print(f"930 studies x 3 effects (k = {res.k}):")
    print(
        f"  multilevel REML:                         {t_big:.3f} s "
        f"(sigma2 = {res.sigma2[0]:.4f}, {res.sigma2[1]:.4f}; estimate {res.estimate:.4f})"
    )
    print(f"  CR2 robust with Satterthwaite df:        {t_rob:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
