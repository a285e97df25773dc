"""lessons: the top layer. The exercise graders, the notebooks and the `tinytape` command.

This is the one package that may import `tinytape`, `cells` and `visuals` together.
"""
