"""In-year: how reps and teams stand against a plan as the year goes, quota relief, and the
adjustments managers make to a plan after the fact.

One module per concept: ``actuals`` (the bookings so far, read by :mod:`datasets.actuals`,
placed in the plan's quarters), ``pacing`` (the quota due by a day, phased inside each quarter,
and where each rep is heading), ``flags`` (who to look at and why: records computed for all
reps at once, worded in one place), ``tracking`` (:func:`inyear.tracking.track`: the tables per
rep, team and month), ``relief`` (:func:`inyear.relief.relief`: the rest of the year re-planned
from the closed quarters) and ``adjust`` (:func:`inyear.adjust.adjust`: one rep's quota changed,
the team rebalanced). Allocation itself is :mod:`optimizer`'s; this package only calls it.

Nothing is exported here: import from the modules (their names say what they hold, and none is
named like a function, so nothing hides behind a module).
"""
