"""Confidence intervals and significance tests for safety scores.

Every score is a share of binary outcomes (safe / unsafe), so resampling responses with replacement
(the nonparametric bootstrap) is exactly a draw from Binomial(n, p̂), and resampling *pairs* of
outcomes (two models on the same prompt, or a prompt and its translation) is a draw from a
multinomial over the four pair types. Drawing those counts directly gives the same bootstrap
distribution as resampling rows, at a cost that does not grow with n: thousands of cells over a million
verdicts take milliseconds.

Where every response of a cell has the same outcome the percentile bootstrap collapses to a single
point (0 or 100% "with certainty" from 5 answers); those cells get the Wilson score interval instead,
which stays honest at the edges. Reports say which method they used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from seval import defaults

FloatArray = npt.NDArray[np.float64]

CI_METHOD = (
    f"percentile bootstrap over responses ({defaults.BOOTSTRAP_SAMPLES} resamples, "
    f"{defaults.CI_LEVEL:.0%}); Wilson score interval where all outcomes of a cell are equal"
)
_CHUNK_CELLS = 1024


def wilson_interval(k: int, n: int, level: float = defaults.CI_LEVEL) -> tuple[float, float]:
    """Wilson score interval: well-behaved for small n and for shares near 0 or 1."""
    if n == 0:
        return (math.nan, math.nan)
    z = float(sps.norm.ppf(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def proportion_cis(
    k: npt.ArrayLike,
    n: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    samples: int = defaults.BOOTSTRAP_SAMPLES,
    level: float = defaults.CI_LEVEL,
) -> tuple[FloatArray, FloatArray]:
    """Bootstrap CIs of k/n for many cells at once (NaN where n == 0)."""
    k_arr = np.asarray(k, dtype=np.int64).ravel()
    n_arr = np.asarray(n, dtype=np.int64).ravel()
    lo = np.full(k_arr.shape, np.nan)
    hi = np.full(k_arr.shape, np.nan)
    alpha = (1 - level) / 2
    inner = (n_arr > 0) & (k_arr > 0) & (k_arr < n_arr)
    idx = np.flatnonzero(inner)
    for start in range(0, len(idx), _CHUNK_CELLS):
        part = idx[start : start + _CHUNK_CELLS]
        nn = n_arr[part][:, None]
        draws = rng.binomial(nn, k_arr[part][:, None] / nn, size=(len(part), samples)) / nn
        q = np.quantile(draws, [alpha, 1 - alpha], axis=1)
        lo[part], hi[part] = q[0], q[1]
    for i in np.flatnonzero((n_arr > 0) & ~inner):
        lo[i], hi[i] = wilson_interval(int(k_arr[i]), int(n_arr[i]), level)
    return lo, hi


@dataclass(frozen=True)
class Difference:
    """Score of A minus score of B, with a CI and a two-sided p-value."""

    a: float
    b: float
    diff: float
    lo: float
    hi: float
    p: float
    n_a: int
    n_b: int
    paired: bool
    test: str

    def to_json(self) -> dict[str, float | int | bool | str | None]:
        def num(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 6)

        return {
            "a": num(self.a),
            "b": num(self.b),
            "diff": num(self.diff),
            "lo": num(self.lo),
            "hi": num(self.hi),
            "p": num(self.p),
            "n_a": self.n_a,
            "n_b": self.n_b,
            "paired": self.paired,
            "test": self.test,
        }


_NAN_DIFF = dict(a=math.nan, b=math.nan, diff=math.nan, lo=math.nan, hi=math.nan, p=math.nan)


def paired_difference(
    n11: int,
    n10: int,
    n01: int,
    n00: int,
    rng: np.random.Generator,
    *,
    samples: int = defaults.BOOTSTRAP_SAMPLES,
    level: float = defaults.CI_LEVEL,
) -> Difference:
    """A vs B on the same items: n10 = A safe and B unsafe, n01 = A unsafe and B safe, etc.

    The CI resamples items (a multinomial over the four pair types); the p-value is McNemar's exact
    test, which only looks at the items on which the two disagree.
    """
    n = n11 + n10 + n01 + n00
    if n == 0:
        return Difference(**_NAN_DIFF, n_a=0, n_b=0, paired=True, test="mcnemar-exact")
    a = (n11 + n10) / n
    b = (n11 + n01) / n
    discordant = n10 + n01
    if discordant == 0:
        return Difference(a, b, 0.0, 0.0, 0.0, 1.0, n, n, paired=True, test="mcnemar-exact")
    draws = rng.multinomial(n, np.array([n11, n10, n01, n00]) / n, size=samples)
    diffs = (draws[:, 1] - draws[:, 2]) / n
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    p = float(sps.binomtest(n10, discordant, 0.5).pvalue)
    return Difference(a, b, a - b, float(lo), float(hi), p, n, n, paired=True, test="mcnemar-exact")


def unpaired_difference(
    k_a: int,
    n_a: int,
    k_b: int,
    n_b: int,
    rng: np.random.Generator,
    *,
    samples: int = defaults.BOOTSTRAP_SAMPLES,
    level: float = defaults.CI_LEVEL,
) -> Difference:
    """A vs B on different items: independent binomial resamples for the CI, Fisher's exact test."""
    if n_a == 0 or n_b == 0:
        return Difference(**_NAN_DIFF, n_a=n_a, n_b=n_b, paired=False, test="fisher-exact")
    a, b = k_a / n_a, k_b / n_b
    diffs = rng.binomial(n_a, a, samples) / n_a - rng.binomial(n_b, b, samples) / n_b
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    p = float(sps.fisher_exact([[k_a, n_a - k_a], [k_b, n_b - k_b]]).pvalue)
    return Difference(a, b, a - b, float(lo), float(hi), p, n_a, n_b, paired=False, test="fisher-exact")


def benjamini_hochberg(pvalues: npt.ArrayLike) -> FloatArray:
    """False-discovery-rate adjusted p-values (q-values); NaN stays NaN.

    A comparison over 25 risk categories and 10 attacks runs dozens of tests; without an adjustment
    one of them comes out "significant" by chance in most reports.
    """
    p = np.asarray(pvalues, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if len(ok) == 0:
        return q
    order = ok[np.argsort(p[ok])]
    m = len(order)
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q[order] = np.minimum(ranked, 1.0)
    return q
