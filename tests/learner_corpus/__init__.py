"""Learner-style exercise code for testing `tinytape.check.backward`.

Correct implementations in the two styles the lessons use (the thesis's lab, `h_prev`,
and the "RNN step by step" course, `a_prev`, `da_next`, `yt_pred`), and realistic buggy
ones. Every `bug_*.py` module says in its docstring which gradients it breaks and why,
and states it as data: `WRONG` (the gradient names that must be flagged), `GATE` (the
gate the localisation must name, or None) and `DIAGNOSIS` (the diagnosis kind, or None).
"""
