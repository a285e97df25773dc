"""A small reader of the DOT text visuals writes, for the visuals tests.

Written separately from visuals/dot.py (it parses text rather than trusting the writer's
own counts). It understands the subset visuals emits: one statement per line, `id [attrs];`
nodes, `a -> b [attrs];` edges, `subgraph cluster_N {` ... `}` blocks with `label=...;`.
"""
from __future__ import annotations

import re

NODE = re.compile(r"^\s*([A-Za-z_][\w]*) \[(.*)\];$")
EDGE = re.compile(r"^\s*([A-Za-z_][\w]*) -> ([A-Za-z_][\w]*)(?: \[(.*)\])?;$")
CLUSTER = re.compile(r"^\s*subgraph (cluster_\w+) \{$")
CLUSTER_LABEL = re.compile(r'^\s*label="(.*)";$')


class ParsedDot:
    def __init__(self, source: str):
        self.nodes: dict[str, str] = {}  # id -> its attribute text
        self.node_cluster: dict[str, str | None] = {}  # id -> innermost cluster id
        self.edges: list[tuple[str, str, str]] = []  # visible edges
        self.hidden_edges: list[tuple[str, str, str]] = []
        self.clusters: list[str] = []  # in source order
        self.cluster_labels: dict[str, str] = {}
        self.cluster_parent: dict[str, str | None] = {}
        stack: list[str] = []
        for line in source.splitlines():
            if match := CLUSTER.match(line):
                cluster = match.group(1)
                self.cluster_parent[cluster] = stack[-1] if stack else None
                self.clusters.append(cluster)
                stack.append(cluster)
            elif line.strip() == "}" and stack:
                stack.pop()
            elif (match := CLUSTER_LABEL.match(line)) and stack:
                self.cluster_labels[stack[-1]] = match.group(1)
            elif match := EDGE.match(line):
                src, dst, attrs = match.group(1), match.group(2), match.group(3) or ""
                (self.hidden_edges if 'style="invis"' in attrs else self.edges).append((src, dst, attrs))
            elif match := NODE.match(line):
                if match.group(1) in ("graph", "node", "edge"):
                    continue
                self.nodes[match.group(1)] = match.group(2)
                self.node_cluster[match.group(1)] = stack[-1] if stack else None

    def ids_with(self, text: str) -> list[str]:
        """Node ids whose attribute text contains `text` (e.g. a label fragment)."""
        return [node for node, attrs in self.nodes.items() if text in attrs]

    def fill(self, node: str) -> str | None:
        match = re.search(r'fillcolor="([^"]+)"', self.nodes[node])
        return match.group(1) if match else None

    def pen(self, node: str) -> str | None:
        match = re.search(r'(?<!fill)color="(#[0-9a-fA-F]{6})"', self.nodes[node])
        return match.group(1) if match else None
