"""The optimizer's errors: a plan asked for in a way it cannot take, an impossible plan (with its
diagnosis) and a solver out of time."""

from __future__ import annotations


class PlanInfeasibleError(ValueError):
    """The number cannot be met within the limits.

    ``diagnosis`` (an :class:`optimizer.results.Diagnosis`) says which family of limits binds,
    by how much, and which changes make the plan possible (each one checked). It is worked out
    when first asked for (``diagnose`` may be a function returning it), so a caller probing
    many numbers pays only for the diagnoses it reads.
    """

    def __init__(self, diagnosis):
        self._diagnosis = diagnosis
        super().__init__()

    @property
    def diagnosis(self):
        if callable(self._diagnosis):
            self._diagnosis = self._diagnosis()
        return self._diagnosis

    def __str__(self) -> str:
        return self.diagnosis.text()


class SolverLimitError(RuntimeError):
    """HiGHS stopped (time limit) before proving the plan optimal."""


class SpecError(ValueError):
    """A plan the optimizer cannot take as asked: a limit out of range, an amount it cannot read,
    a lock or target naming a rep, quarter or team the plan does not have."""
