"""Gradient checks: finite differences, tape vs numeric, and gradient-dict comparisons."""
from tinytape.check.numeric import compare, gradcheck, numeric_gradient, tape_gradient
from tinytape.check.report import GradientReport, Row

__all__ = ["numeric_gradient", "gradcheck", "compare", "tape_gradient", "GradientReport", "Row"]
