"""Pure statistics of experiment results (numpy/scipy, no Django); see docs/statistics.md.

- `comparison`: `Sample`, `compare` -> `Estimate` (fixed-horizon and sequential, absolute and
  relative, CUPED), as GrowthBook's engine computes them;
- `corrections`: `adjust_p_values` (Holm, Benjamini-Hochberg);
- `power`: planned sample size of a fixed-horizon test and its minimum;
- `guardrails`: `harm` -> `Harm`, the one-sided test for harm on a guardrail metric.
"""

from experiments.statistics.comparison import MIN_EVENTS_PER_ARM, Estimate, Sample, compare
from experiments.statistics.corrections import adjust_p_values
from experiments.statistics.guardrails import Harm, harm
from experiments.statistics.power import (
    achieved_power,
    exact_sample_size,
    minimum_detectable_effect,
    minimum_sample_size_per_arm,
    sample_size_per_arm,
)

__all__ = [
    "MIN_EVENTS_PER_ARM",
    "Estimate",
    "Harm",
    "Sample",
    "achieved_power",
    "adjust_p_values",
    "compare",
    "exact_sample_size",
    "harm",
    "minimum_detectable_effect",
    "minimum_sample_size_per_arm",
    "sample_size_per_arm",
]
