"""Evaluate: validate candidate skills in simulation and keep the library honest."""
