"""visuals: Graphviz drawings of tapes and matplotlib plots."""
