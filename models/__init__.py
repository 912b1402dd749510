"""Forecasting: scikit-learn models of what each rep can realistically sell, with quantiles.

Built in the forecasting issue; see DESIGN.md ("Forecasting").
"""
