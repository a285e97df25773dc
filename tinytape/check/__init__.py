"""Gradient checks: finite differences, tape vs numeric, gradient-dict comparisons, and
the tape as referee of a learner's own hand-written backward (`backward`)."""
from tinytape.check.numeric import compare, gradcheck, numeric_gradient, tape_gradient
from tinytape.check.report import GradientReport, Row
from tinytape.check.learner import backward
from tinytape.check.learner_report import BackwardReport, GradientCheck, LearnerError

__all__ = ["numeric_gradient", "gradcheck", "compare", "tape_gradient", "GradientReport", "Row",
           "backward", "BackwardReport", "GradientCheck", "LearnerError"]
