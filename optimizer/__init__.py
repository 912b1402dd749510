"""Allocation: the Pyomo/HiGHS linear program that turns forecasts into quarterly quotas.

Built in the optimizer issue; see DESIGN.md ("Allocation").
"""
