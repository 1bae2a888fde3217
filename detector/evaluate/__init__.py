"""Evaluation: labelled datasets, metrics and baselines."""
