"""Lesson 0: the two-layer sigmoid network of seed 001 (w1 … w8), gradients by hand.

`v` is a dict of plain floats: inputs i1, i2; weights w1 … w8; biases b1, b2;
targets t1, t2. The network (Mazur's classic example, used by seed 001):
    in_h1 = w1 i1 + w2 i2 + b1     out_h1 = σ(in_h1)
    in_h2 = w3 i1 + w4 i2 + b1     out_h2 = σ(in_h2)
    in_o1 = w5 out_h1 + w6 out_h2 + b2     out_o1 = σ(in_o1)
    in_o2 = w7 out_h1 + w8 out_h2 + b2     out_o2 = σ(in_o2)
    L = ½ (t1 − out_o1)² + ½ (t2 − out_o2)²
"""
from __future__ import annotations

import math


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _forward(v: dict) -> tuple[float, float, float, float]:
    out_h1 = _sigmoid(v["w1"] * v["i1"] + v["w2"] * v["i2"] + v["b1"])
    out_h2 = _sigmoid(v["w3"] * v["i1"] + v["w4"] * v["i2"] + v["b1"])
    out_o1 = _sigmoid(v["w5"] * out_h1 + v["w6"] * out_h2 + v["b2"])
    out_o2 = _sigmoid(v["w7"] * out_h1 + v["w8"] * out_h2 + v["b2"])
    return out_h1, out_h2, out_o1, out_o2


def dL_dw5(v: dict) -> float:
    """∂L/∂w5 = ∂L/∂out_o1 · ∂out_o1/∂in_o1 · ∂in_o1/∂w5 (seed 001's three factors)."""
    out_h1, _, out_o1, _ = _forward(v)
    dL_dout_o1 = -(v["t1"] - out_o1)           # from L = ½(t1 − out_o1)²
    dout_din = out_o1 * (1.0 - out_o1)          # σ'(z) = σ(z)(1 − σ(z))
    din_dw5 = out_h1                            # in_o1 = w5 out_h1 + w6 out_h2 + b2
    return dL_dout_o1 * dout_din * din_dw5


def dL_dw1(v: dict) -> float:
    """∂L/∂w1: out_h1 feeds BOTH outputs, so ∂L/∂out_h1 is a sum of two paths."""
    out_h1, _, out_o1, out_o2 = _forward(v)
    delta_o1 = -(v["t1"] - out_o1) * out_o1 * (1.0 - out_o1)  # ∂L/∂in_o1
    delta_o2 = -(v["t2"] - out_o2) * out_o2 * (1.0 - out_o2)  # ∂L/∂in_o2
    dL_dout_h1 = delta_o1 * v["w5"] + delta_o2 * v["w7"]      # the two paths meet here
    dout_h1_din = out_h1 * (1.0 - out_h1)
    din_h1_dw1 = v["i1"]                                      # in_h1 = w1 i1 + w2 i2 + b1
    return dL_dout_h1 * dout_h1_din * din_h1_dw1
