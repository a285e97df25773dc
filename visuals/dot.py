"""DOT text: escaping, attribute lists and the writer that turns a graph model into a string.

Kept free of Graphviz imports (as autograd's examples/dot_graph.py is), so drawings are
built and tested as strings and rendered only when asked.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class Html(str):
    """A Graphviz HTML-like label: written as `<...>` instead of a quoted string."""


def quote(text: str) -> str:
    """A DOT double-quoted string. Backslashes are doubled so `\\n` in a name stays literal."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def html_escape(text: str) -> str:
    """Escape text for inside an HTML-like label (names are user strings: `a<b`, `x&y`)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def attr_value(value) -> str:
    if isinstance(value, Html):
        return f"<{value}>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return quote(value)


# Most attribute pairs repeat thousands of times in a big drawing (shape="circle", ...):
# format each distinct one once. Labels are mostly unique and skip the memo.
_PAIRS: dict = {}


def _pair(key: str, value) -> str:
    memo_key = (key, type(value), value)
    text = _PAIRS.get(memo_key)
    if text is None:
        text = f"{key}={attr_value(value)}"
        if len(_PAIRS) < 4096:
            _PAIRS[memo_key] = text
    return text


def attr_list(attrs: dict) -> str:
    """`{"shape": "box", "label": Html("W")}` -> `[shape="box", label=<W>]` ('' when empty)."""
    if not attrs:
        return ""
    return " [" + ", ".join(
        f"{key}={attr_value(value)}" if key in ("label", "tooltip") else _pair(key, value)
        for key, value in attrs.items()) + "]"


@dataclass
class Cluster:
    """One `subgraph cluster_N`: a scope component. Children keep first-appearance (= time) order."""

    ident: str
    title: str
    attrs: dict = field(default_factory=dict)
    nodes: list = field(default_factory=list)  # node ids, in order
    children: dict = field(default_factory=dict)  # component -> Cluster, insertion-ordered


@dataclass
class GraphModel:
    """What the builders produce and `write_dot` turns into text: nodes, edges, clusters."""

    graph_attrs: dict = field(default_factory=dict)
    node_defaults: dict = field(default_factory=dict)
    edge_defaults: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)  # id -> attrs, insertion-ordered
    edges: list = field(default_factory=list)  # (src, dst, attrs)
    hidden_edges: list = field(default_factory=list)  # (src, dst, attrs): layout-only, drawn invisible
    same_rank: list = field(default_factory=list)  # lists of node ids laid out in one rank (column)
    root: Cluster = field(default_factory=lambda: Cluster("root", ""))
    cluster_count: int = 0

    def cluster_for(self, path: tuple[str, ...], title_of) -> Cluster:
        """The (nested) cluster for a scope path, created on first use, in time order."""
        cluster = self.root
        for component in path:
            child = cluster.children.get(component)
            if child is None:
                self.cluster_count += 1
                child = Cluster(f"cluster_{self.cluster_count}", title_of(component))
                cluster.children[component] = child
            cluster = child
        return cluster

    def add_node(self, ident: str, attrs: dict, cluster: Cluster | None = None) -> None:
        if ident not in self.nodes:
            (cluster or self.root).nodes.append(ident)
        self.nodes[ident] = attrs

    def add_edge(self, src: str, dst: str, attrs: dict | None = None) -> None:
        self.edges.append((src, dst, attrs or {}))

    def add_hidden_edge(self, src: str, dst: str, attrs: dict | None = None) -> None:
        self.hidden_edges.append((src, dst, {"style": "invis", **(attrs or {})}))


def write_dot(model: GraphModel, name: str = "tinytape") -> str:
    """The DOT source. Iterative (an explicit stack), so deep scope nesting cannot recurse."""
    lines = [f"digraph {quote(name)} {{"]
    if model.graph_attrs:
        lines.append("  graph" + attr_list(model.graph_attrs) + ";")
    if model.node_defaults:
        lines.append("  node" + attr_list(model.node_defaults) + ";")
    if model.edge_defaults:
        lines.append("  edge" + attr_list(model.edge_defaults) + ";")
    # Each stack entry is a cluster to open, or None to close the one opened last.
    stack: list = [model.root]
    depth = 0
    while stack:
        cluster = stack.pop()
        if cluster is None:
            depth -= 1
            lines.append("  " * (depth + 1) + "}")
            continue
        indent = "  " * (depth + 1)
        if cluster is not model.root:
            lines.append(f"{indent}subgraph {cluster.ident} {{")
            depth += 1
            indent = "  " * (depth + 1)
            attrs = {"label": cluster.title, **cluster.attrs}
            lines.extend(f"{indent}{key}={attr_value(value)};" for key, value in attrs.items())
            stack.append(None)
        lines.extend(f"{indent}{ident}{attr_list(model.nodes[ident])};" for ident in cluster.nodes)
        stack.extend(reversed(list(cluster.children.values())))
    lines.extend(f"  {src} -> {dst}{attr_list(attrs)};" for src, dst, attrs in model.edges)
    lines.extend(f"  {src} -> {dst}{attr_list(attrs)};" for src, dst, attrs in model.hidden_edges)
    lines.extend("  { rank=same; " + " ".join(f"{ident};" for ident in ids) + " }" for ids in model.same_rank)
    lines.append("}")
    return "\n".join(lines) + "\n"
