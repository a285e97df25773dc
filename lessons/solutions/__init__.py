"""Worked solutions to the lesson exercises, one module per lesson.

Each function has the name of the exercise it solves. The notebooks load them instead
of the learner's cell when TINYTAPE_SOLUTIONS=1 (see `lessons.lab.exercise`), so the
tests run the graded path end to end. They are written the way a learner would write
them (plain NumPy, the lab's notation), not the way `cells/` is optimised.
"""
