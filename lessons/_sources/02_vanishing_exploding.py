# %% [markdown]
# # Lesson 2 — Vanishing and exploding gradients
#
# *About 45 minutes. Prerequisite: Lesson 1.*
#
# Lesson 1 ended on seed 001's expansion: the loss at step $s$ reaches the state $h_t$
# through $s - t$ Jacobians $\partial h_{k+1}/\partial h_k$. For the tanh RNN of (4-2) each is
# $\mathrm{diag}(1 - h_{k+1}^2)\,W_h$; multiply many of them and the product shrinks or grows
# geometrically (section 4.1.3 of the thesis). The LSTM's memory cell $c$ adds a path whose
# Jacobian is just $\mathrm{diag}(\Gamma_f)$ — no matrix, no squashing — which is why it keeps
# gradients alive for longer (section 4.2). The GRU's $(1-\Gamma_u)\,h^{\langle t-1\rangle}$ term does
# the same.
#
# Here you **see** it: the gradient norm ‖∂L/∂h⟨t⟩‖ at every step, for a loss at the last
# step, for the three cells, as you change the sequence length $T$ and the scale of the
# recurrent weights. Then two standard remedies: gradient clipping (for explosions) and
# truncated BPTT (for cost — at the price of a biased gradient).

# %%
import matplotlib.pyplot as plt
import numpy as np

import cells
from cells import train
from lessons import lab
from visuals import plots

print(lab.banner())

# %% [markdown]
# ## 1. ‖∂L/∂h⟨t⟩‖ against t — move the sliders
#
# `plots.hidden_grad_norms(kind, T, scale, seed)` builds a cell with its recurrent weights
# multiplied by `scale`, runs a random sequence of length `T` through it, puts a loss on the
# last state, and returns ‖∂L/∂h⟨t⟩‖ for t = 1 … T, computed by the tape. The y axis is
# logarithmic: a straight line going down to the left is a gradient vanishing geometrically.
#
# Try: `scale` 0.5 — everything fades going back in time, the RNN by far the fastest (a
# straight line: a constant factor per step); the gated cells' memory paths keep theirs for
# longer. Then 1.0, then 2.5 — now the RNN's gradient no longer fades at all: it stays large
# all the way back (tanh's saturation keeps it from growing without bound here; a linear or
# ReLU RNN with such weights explodes geometrically, and even this one produces the occasional
# huge gradient in training, as the next section shows). Make $T$ long and watch the slopes.

# %%
import ipywidgets as widgets

KINDS = ("rnn", "lstm", "gru")


def show_gradient_norms(T=30, scale=1.0):
    norms = {kind.upper(): plots.hidden_grad_norms(kind, T=T, scale=scale, seed=0) for kind in KINDS}
    fig, ax = plt.subplots(figsize=(7, 4))
    plots.plot_grad_norms(norms, ax=ax)
    ax.set_title(f"‖∂L/∂h⟨t⟩‖, loss at t = {T}, recurrent weights × {scale:g}")
    plt.show()


T_slider = widgets.IntSlider(value=30, min=5, max=lab.fast(200, 60), step=5, description="T",
                             continuous_update=False)
scale_slider = widgets.FloatSlider(value=1.0, min=0.25, max=3.0, step=0.25, description="scale",
                                   continuous_update=False)
widgets.interact(show_gradient_norms, T=T_slider, scale=scale_slider);

# %% [markdown]
# The same picture for a few scales side by side (this is what the sliders show, frozen, for
# readers of a static copy):

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), sharey=True)
for ax, scale in zip(axes, (0.5, 1.0, 2.5)):
    plots.plot_grad_norms({k.upper(): plots.hidden_grad_norms(k, T=40, scale=scale, seed=0) for k in KINDS}, ax=ax)
    ax.set_title(f"recurrent weights × {scale}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Gradient clipping
#
# When a gradient explodes, one step of gradient descent can throw the weights far away.
# **Clipping by global norm** rescales the whole gradient (all parameters together) to norm at
# most `max_norm` when it is larger, keeping its direction:
#
# $$\|g\| = \sqrt{\textstyle\sum_{\text{params}} \sum_{\text{entries}} g^2},\qquad
#   g \leftarrow g \cdot \frac{\mathrm{max\_norm}}{\|g\|}\ \text{ if } \|g\| > \mathrm{max\_norm}$$
#
# (Clipping **by value** clips each entry into $[-c, c]$ instead, which changes the direction.)
# Clipping belongs in the optimiser, after the gradient is computed — never inside the
# gradient function, or no check could verify the gradient any more.
#
# ### Exercise 2.1 — `clip_by_global_norm`
#
# Return `(clipped, norm)`: a new dict of gradients and the global norm *before* clipping.
# Don't modify the input dict.

# %%
@lab.exercise
def clip_by_global_norm(grads, max_norm):
    """Rescale every gradient by max_norm / ‖g‖ when the global norm ‖g‖ exceeds max_norm."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 2.1: write clip_by_global_norm")


# %%
lab.check("clip_by_global_norm", clip_by_global_norm)

# %% [markdown]
# Now the effect on training. A task with a long memory: the target is the **first** value of
# a 20-step random sequence. We train an RNN whose recurrent weights start at 2.5× their usual
# size — exploding territory — with and without clipping (`cells.train.fit` does the clipping
# with the library's version of your function), and plot the loss and the gradient norm per
# epoch.

# %%
rng = np.random.default_rng(0)
T_task, m_task = 20, lab.fast(256, 64)
X_task = rng.uniform(-1, 1, size=(1, m_task, T_task))
Y_task = X_task[:, :, 0].copy()                                  # remember the first value

rnn = cells.get("rnn")
start = rnn.init_params(1, 16, 1, seed=0)
start["Wh"] = 2.5 * start["Wh"]                                  # exploding territory
epochs = lab.fast(40, 3)
runs = {}
for label, clip in (("no clipping", None), ("clip norm 1.0", ("norm", 1.0))):
    _, history = train.fit("rnn", X_task, Y_task, n_h=16, params=start, epochs=epochs, batch_size=32,
                           lr=1e-2, clip=clip, seed=0, progress=False)
    runs[label] = history

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
plots.plot_losses({k: h["loss"] for k, h in runs.items()}, ax=ax1)
for label, history in runs.items():
    ax2.semilogy(np.arange(1, epochs + 1), history["grad_norm"], marker="o", label=label)
ax2.set_xlabel("epoch")
ax2.set_ylabel("mean ‖g‖ before clipping")
ax2.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Truncated BPTT
#
# Backpropagating through every step of a long sequence costs memory and time proportional to
# its length. **Truncated BPTT** lets the gradient flow back through only the last $k$ steps:
# the forward pass still runs over the whole sequence, but the state entering step $T-k+1$ is
# treated as a constant. It is cheaper, and it is a **different gradient**: dependencies
# longer than $k$ steps can no longer be learned. (Seed 003 shows the chunked variant used
# for very long sequences: split into chunks, carry the state forward, backpropagate within
# each chunk.)
#
# ### Exercise 2.2 — `rnn_backward_truncated`
#
# Take your `rnn_backward` from Lesson 1 and stop it after $k$ steps: loop only over the last
# $k$ time steps (0-based $T_x-k \dots T_x-1$) and return `{"dWh", "dWx", "dbh"}`. The caches
# come from the worked `rnn_forward` of Lesson 1, one `(h_next, h_prev, xt, parameters)` per
# step; `rnn_cell_backward` from Lesson 1 is imported for you. The grader compares with the
# tape's truncated gradient (`cells.train.truncated_loss_and_grads(..., method="tape")`). The
# tape knows nothing of your loop: it records the whole forward and passes the state entering
# step $T-k+1$ through `tt.stop_gradient`, an op whose value is its input and whose gradient
# is never sent back: "treated as a constant", written as one record.

# %%
from lessons.solutions.rnn import rnn_cell_backward, rnn_forward  # the Lesson 1 pieces


@lab.exercise
def rnn_backward_truncated(dH, caches, k):
    """rnn_backward, but only through the last k steps. Returns {"dWh", "dWx", "dbh"}."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 2.2: write rnn_backward_truncated")


# %%
lab.check("rnn_backward_truncated", rnn_backward_truncated)

# %% [markdown]
# How far is the truncated gradient from the full one? For the "remember the first value"
# task, the full gradient of $W_x$ needs the first step; a truncated one never sees it.

# %%
params = rnn.init_params(1, 16, 1, seed=0)
full_loss, full = train.loss_and_grads("rnn", params, X_task, Y_task)
ks = [1, 2, 5, 10, 15, 20]
rel = []
for k in ks:
    _, trunc = train.truncated_loss_and_grads("rnn", params, X_task, Y_task, k)
    rel.append(np.linalg.norm(trunc["dWx"] - full["dWx"]) / np.linalg.norm(full["dWx"]))
    print(f"k = {k:2d}: ‖dWx(truncated) − dWx(full)‖ / ‖dWx(full)‖ = {rel[-1]:.3f}")

# %% [markdown]
# On the tape, truncation is one record per state: the state entering the window goes through
# `tt.stop_gradient`, whose value is its input and whose gradient is never sent back. Drawn with
# the size of each value's gradient (8 steps, k = 3), the colour stops where the window starts:
# $h^{\langle 5\rangle}$ and everything before it get no gradient at all.

# %%
import visuals
from cells import record

p_small = rnn.init_params(1, 3, 1, seed=0)
cuts = record.truncation_cuts("seq2one", 8, 3)                  # (6,): the state entering step 6
tape, loss, tensors = record.record("rnn", p_small, X_task[:, :4, :8], Y_task[:, :4], cut_before=cuts)
tape.gradient(loss, tensors, retain_all=True)
visuals.draw(tape, level="cell", grads=True)

# %% [markdown]
# ## What you saw
#
# - Gradients through a plain RNN shrink or grow geometrically with distance in time; the
#   gated cells' additive paths keep them in range for much longer.
# - Clipping by global norm bounds the step without changing its direction.
# - Truncation trades a biased gradient for cost; with $k \ge T$ it is exactly BPTT.
#
# Next: **Lesson 3**, the LSTM, built the way the thesis's lab builds it.
