"""Is the challenger better or worse than the champion, or can nobody tell yet? Tests and intervals.

Classification (accuracy, a proportion): Wilson score intervals for each variant; for the difference,
Newcombe's hybrid score interval and the two-proportion z-test (pooled), or Fisher's exact test when a
cell of the 2x2 table expects fewer than 5 counts. Regression (absolute error, a mean): Welch's t-test
and its interval, which do not assume equal variances.
"""

from __future__ import annotations

import dataclasses
import math

from scipy import stats

CONFIDENCE = 0.95
MIN_EXPECTED = 5.0


@dataclasses.dataclass(frozen=True)
class Interval:
    """A confidence interval."""

    low: float
    high: float


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A challenger against the champion: the difference (challenger minus champion), its interval, the test."""

    difference: float
    interval: Interval
    p_value: float
    test: str
    significant: bool


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """The Wilson score interval of a proportion (sensible at 0, 1 and small n)."""
    if n == 0:
        return Interval(0.0, 1.0)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(max(0.0, center - half), min(1.0, center + half))


def compare_proportions(
    champion: tuple[int, int], challenger: tuple[int, int], *, alpha: float = 1 - CONFIDENCE
) -> Comparison | None:
    """Challenger's accuracy minus champion's, from (correct, total) pairs; None while either has no data."""
    (s1, n1), (s2, n2) = champion, challenger
    if n1 == 0 or n2 == 0:
        return None
    p1, p2 = s1 / n1, s2 / n2
    confidence = 1 - alpha
    w1, w2 = wilson(s1, n1, confidence), wilson(s2, n2, confidence)
    interval = Interval(
        (p2 - p1) - math.sqrt((p2 - w2.low) ** 2 + (w1.high - p1) ** 2),
        (p2 - p1) + math.sqrt((w2.high - p2) ** 2 + (p1 - w1.low) ** 2),
    )
    pooled = (s1 + s2) / (n1 + n2)
    expected = min(n * share for n in (n1, n2) for share in (pooled, 1 - pooled))
    if expected < MIN_EXPECTED:
        _, p_value = stats.fisher_exact([[s1, n1 - s1], [s2, n2 - s2]])
        test = "Fisher's exact test"
    else:
        z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        p_value = float(2 * stats.norm.sf(abs(z)))
        test = "two-proportion z-test"
    p_value = float(p_value)
    return Comparison(p2 - p1, interval, p_value, test, p_value < alpha)


@dataclasses.dataclass(frozen=True)
class Sample:
    """A sample summarised: size, mean and (sample) variance."""

    n: int
    mean: float
    variance: float

    @classmethod
    def of_sums(cls, n: int, total: float, total_of_squares: float) -> Sample:
        """A sample from its size, sum and sum of squares."""
        if n == 0:
            return cls(0, math.nan, math.nan)
        mean = total / n
        variance = max(0.0, (total_of_squares - n * mean * mean) / (n - 1)) if n > 1 else math.nan
        return cls(n, mean, variance)

    def interval(self, confidence: float = CONFIDENCE) -> Interval:
        """The t interval of the mean."""
        if self.n < 2:
            return Interval(-math.inf, math.inf)
        half = float(stats.t.ppf(0.5 + confidence / 2, self.n - 1)) * math.sqrt(self.variance / self.n)
        return Interval(self.mean - half, self.mean + half)


def compare_means(champion: Sample, challenger: Sample, *, alpha: float = 1 - CONFIDENCE) -> Comparison | None:
    """Welch's t-test of challenger's mean minus champion's; None while either has fewer than 2 values."""
    if champion.n < 2 or challenger.n < 2:
        return None
    difference = challenger.mean - champion.mean
    a, b = champion.variance / champion.n, challenger.variance / challenger.n
    if a + b == 0:
        p_value = 1.0 if difference == 0 else 0.0
        return Comparison(difference, Interval(difference, difference), p_value, "Welch's t-test", p_value < alpha)
    error = math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (champion.n - 1) + b * b / (challenger.n - 1))
    t = difference / error
    p_value = float(2 * stats.t.sf(abs(t), df))
    half = float(stats.t.ppf(1 - alpha / 2, df)) * error
    return Comparison(
        difference, Interval(difference - half, difference + half), p_value, "Welch's t-test", p_value < alpha
    )
