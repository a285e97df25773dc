# %% [markdown]
# # Lesson 0 — The tape
#
# *About 30 minutes. You need: the chain rule, and NumPy at the level of `a @ b` and `a * b`.*
#
# Every gradient in these lessons is checked by a **tape**: while your code runs forward,
# tinytape writes down each operation — its inputs, its output, the line of your code that
# ran it — in order. That list is called a **Wengert list**. Sweeping it backwards and applying
# the chain rule once per line gives every gradient: that is reverse-mode automatic
# differentiation, and backpropagation is its special case for neural networks.
#
# We start with the smallest network that still shows everything: two inputs, two sigmoid
# hidden units, two sigmoid outputs, the classic **w1 … w8** example of seed 001 (Matt Mazur's
# "A Step by Step Backpropagation Example"). You will derive ∂L/∂w5 and ∂L/∂w1 by hand and let
# the tape check you.
#
# **How the exercises work.** An exercise is a function with `raise NotImplementedError` in it.
# Replace that line with your code, run the cell, then run the grader cell below it. The grader
# runs your function on the example and on random networks and compares it with the tape. (If
# the environment variable `TINYTAPE_SOLUTIONS=1` is set, the worked solutions in
# `lessons/solutions/` are used instead — that is how the tests run these notebooks.)

# %%
import numpy as np

import tinytape as tt
from lessons import lab

print(lab.banner())

# %% [markdown]
# ## 1. The network
#
# With inputs $i_1, i_2$, biases $b_1, b_2$ and targets $t_1, t_2$:
#
# $$in_{h1} = w_1 i_1 + w_2 i_2 + b_1,\quad out_{h1} = \sigma(in_{h1}),\qquad
#   in_{h2} = w_3 i_1 + w_4 i_2 + b_1,\quad out_{h2} = \sigma(in_{h2})$$
# $$in_{o1} = w_5\, out_{h1} + w_6\, out_{h2} + b_2,\quad out_{o1} = \sigma(in_{o1}),\qquad
#   in_{o2} = w_7\, out_{h1} + w_8\, out_{h2} + b_2,\quad out_{o2} = \sigma(in_{o2})$$
# $$L = \tfrac12 (t_1 - out_{o1})^2 + \tfrac12 (t_2 - out_{o2})^2$$
#
# The values are the classic ones: $i = (0.05, 0.10)$, $t = (0.01, 0.99)$, $w_1 \dots w_8 =
# 0.15, 0.20, \dots, 0.55$, $b_1 = 0.35$, $b_2 = 0.60$.

# %%
values = dict(i1=0.05, i2=0.10, w1=0.15, w2=0.20, w3=0.25, w4=0.30, b1=0.35,
              w5=0.40, w6=0.45, w7=0.50, w8=0.55, b2=0.60, t1=0.01, t2=0.99)

# %% [markdown]
# ## 2. Recording the forward pass
#
# A `tt.Tensor` is a NumPy value the tape can follow. Inside `with tt.Tape() as tape:` every
# operation on tensors is recorded; `tape.watch(x)` says "I will want ∂L/∂x". Naming tensors
# makes the printout readable.

# %%
t = {k: tt.Tensor(v, name=k) for k, v in values.items()}
weights = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2"]

with tt.Tape(persistent=True) as tape:
    for k in weights:
        tape.watch(t[k])
    out_h1 = tt.sigmoid(t["w1"] * t["i1"] + t["w2"] * t["i2"] + t["b1"])
    out_h2 = tt.sigmoid(t["w3"] * t["i1"] + t["w4"] * t["i2"] + t["b1"])
    out_o1 = tt.sigmoid(t["w5"] * out_h1 + t["w6"] * out_h2 + t["b2"])
    out_o2 = tt.sigmoid(t["w7"] * out_h1 + t["w8"] * out_h2 + t["b2"])
    L = 0.5 * (t["t1"] - out_o1) ** 2 + 0.5 * (t["t2"] - out_o2) ** 2

out_h1.name, out_h2.name, out_o1.name, out_o2.name, L.name = "out_h1", "out_h2", "out_o1", "out_o2", "L"
print("L =", float(L.value))

# %% [markdown]
# ## 3. The Wengert list
#
# `print(tape)` shows what was recorded: one line per operation, in the order it ran, with
# the line of this notebook that ran it. Read it top to bottom and you have the forward pass;
# read it bottom to top and you have the order in which backpropagation visits it.

# %%
print(tape)

# %% [markdown]
# ## 4. The same list, drawn
#
# `visuals.draw(tape)` turns the list into a graph: round nodes are operations (σ, +, ⊙),
# boxes are values, the watched weights are drawn distinctly.

# %%
import visuals

visuals.draw(tape)

# %% [markdown]
# ## 5. The backward sweep
#
# `tape.gradient(L, sources)` sweeps the list in reverse. Each line contributes the local
# derivative of its operation times the gradient arriving at its output; where a value is
# used twice (as $out_{h1}$ is: it feeds both outputs) the contributions **add up**.
# `retain_all=True` keeps the gradient of every intermediate value, so we can draw them.

# %%
grads = tape.gradient(L, {k: t[k] for k in weights}, retain_all=True)
for k in weights:
    print(f"∂L/∂{k} = {grads[k]: .9f}")

visuals.draw(tape, grads=True)

# %% [markdown]
# ## 6. Exercise 0.1 — ∂L/∂w5 by hand
#
# Seed 001 splits it into three factors along the only path from $w_5$ to $L$:
#
# $$\frac{\partial L}{\partial w_5} = \frac{\partial L}{\partial out_{o1}}\,
#   \frac{\partial out_{o1}}{\partial in_{o1}}\, \frac{\partial in_{o1}}{\partial w_5}$$
#
# Work out each factor on paper first ($\sigma'(z) = \sigma(z)(1-\sigma(z))$ helps), then write
# `dL_dw5(v)`: it receives a dict of plain floats like `values` above (any values, not just
# these) and returns ∂L/∂w5 as a float. Compute the forward pass you need inside it.

# %%
@lab.exercise
def dL_dw5(v):
    """∂L/∂w5 for the network above at the values in the dict v (floats)."""
    # YOUR CODE HERE: forward pass (out_h1, out_h2, out_o1), then the three factors.
    raise NotImplementedError("Exercise 0.1: write dL_dw5")


# %%
lab.check("dL_dw5", dL_dw5)

# %% [markdown]
# ## 7. Exercise 0.2 — ∂L/∂w1 by hand
#
# Now the weight is one layer further back, and $out_{h1}$ reaches $L$ through **both**
# outputs:
#
# $$\frac{\partial L}{\partial w_1} = \Big(\frac{\partial L}{\partial in_{o1}} w_5
#   + \frac{\partial L}{\partial in_{o2}} w_7\Big)\, out_{h1}(1 - out_{h1})\, i_1$$
#
# Forgetting one of the two paths is the classic mistake: the grader will tell you if you
# made it (your number will be off, and only ∂L/∂w1 will be).

# %%
@lab.exercise
def dL_dw1(v):
    """∂L/∂w1 for the network above at the values in the dict v (floats)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 0.2: write dL_dw1")


# %%
lab.check("dL_dw1", dL_dw1)

# %% [markdown]
# ## 8. Who checks the tape?
#
# The graders trust the tape; why should you? Because it can be checked independently:
# **central finite differences**, $\frac{L(w+\varepsilon) - L(w-\varepsilon)}{2\varepsilon}$,
# need no derivative at all. `tt.check.gradcheck(f, *args)` compares the tape's gradient of
# `f` with them, entry by entry, in float64. Here `f` takes the ten weights as one dict.

# %%
inputs = {k: values[k] for k in ("i1", "i2", "t1", "t2")}


def network_loss(w):
    out_h1 = tt.sigmoid(w["w1"] * inputs["i1"] + w["w2"] * inputs["i2"] + w["b1"])
    out_h2 = tt.sigmoid(w["w3"] * inputs["i1"] + w["w4"] * inputs["i2"] + w["b1"])
    out_o1 = tt.sigmoid(w["w5"] * out_h1 + w["w6"] * out_h2 + w["b2"])
    out_o2 = tt.sigmoid(w["w7"] * out_h1 + w["w8"] * out_h2 + w["b2"])
    return 0.5 * (inputs["t1"] - out_o1) ** 2 + 0.5 * (inputs["t2"] - out_o2) ** 2


report = tt.check.gradcheck(network_loss, {k: np.array(values[k]) for k in weights})
report

# %% [markdown]
# The same function differentiated in one line with the functional API — `tt.grad(f)` returns
# a function computing the gradient (a dict, because the argument is a dict):

# %%
dL = tt.grad(network_loss)({k: np.array(values[k]) for k in weights})
print("∂L/∂w5 =", float(dL["w5"]), "   ∂L/∂w1 =", float(dL["w1"]))
print("Mazur's published values: 0.082167041 and 0.000438568")

# %% [markdown]
# ## 9. The list is a program
#
# The Wengert list does not depend on the numbers that went through it: the same operations,
# in the same order, work for any weights. `tape.replayer(L, sources)` keeps the list as a
# program; calling it with new values for the sources re-runs it forward and backward
# **without recording again** — which is what a training loop wants, since every step runs
# the same list. Here, four steps of gradient descent on the ten weights, each one a replay:

# %%
replay = tape.replayer(L, {k: t[k] for k in weights})
w = {k: np.array(values[k]) for k in weights}
for step in range(4):
    loss, g = replay({t[k]: w[k] for k in weights})
    print(f"step {step}: L = {float(loss):.9f}")
    w = {k: w[k] - 0.5 * g[k] for k in weights}          # learning rate 0.5, as in seed 001

fresh = tt.grad(network_loss)(w)                         # recorded from scratch at the new weights
print("replay vs a fresh recording:", max(abs(float(replay({t[k]: w[k] for k in weights})[1][k] - fresh[k]))
                                         for k in weights))

# %% [markdown]
# What a replay cannot see: anything that was not declared replaceable keeps its recorded
# value (here the inputs and targets — fine, they do not change), and Python decisions made
# while recording (an `if` on a value) are frozen. That is the same contract as TensorFlow's
# `tf.function` and JAX's `jit`, and the reason tinytape refuses to replay a tape whose
# operations captured data-dependent arrays.

# %% [markdown]
# ## What you saw
#
# - The tape is a list of operations in the order they ran; the backward pass is that list
#   read in reverse, one local derivative per line.
# - A value used twice gets the **sum** of the gradients from both uses — the ∂L/∂w1 exercise.
# - Three independent answers agree: your derivation, the tape, and finite differences.
# - The list is a program: a replay re-runs it on new weights without recording again.
#
# Next: **Lesson 1**, where the same list is unrolled through time.
