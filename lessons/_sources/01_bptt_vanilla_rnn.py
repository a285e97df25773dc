# %% [markdown]
# # Lesson 1 — Backpropagation through time for a vanilla RNN
#
# *About 60 minutes. Prerequisite: Lesson 0.*
#
# A recurrent network applies **the same weights** at every time step. Unrolled, it is an
# ordinary (deep) network whose layers share parameters — so backpropagation through time
# (BPTT) is backpropagation on the unrolled graph, with one rule added: **a shared weight's
# gradient is the sum of its gradients at every step.**
#
# We work through seed 003's worked example by hand, derive seed 001's expansion of
# ∂L/∂h_t (d2l, eq. 9.7.15), let the tape check both, and then write the thesis lab's tanh
# RNN cell in the exercise style you will use for the LSTM and the GRU.

# %%
import numpy as np

import tinytape as tt
import visuals
from lessons import graders_extra, lab

print(lab.banner())

# %% [markdown]
# ## 1. Seed 003's example
#
# A linear RNN with no biases, three hidden units, one input and one output:
#
# $$h^{\langle t\rangle} = W h^{\langle t-1\rangle} + U x^{\langle t\rangle},\qquad
#   o^{\langle t\rangle} = V h^{\langle t\rangle},\qquad
#   L = \sum_{t=1}^{3} \tfrac12\big(o^{\langle t\rangle} - y^{\langle t\rangle}\big)^2,\qquad h^{\langle 0\rangle} = 0$$
#
# with every weight $0.5$ ($U$ is 3×1, $W$ 3×3, $V$ 1×3), inputs $x = 0.3, 0.35, 0.4$ and
# targets $y = 0.8, 0.81, 0.62$. (The seed counts time from 0; we count from 1 like the
# thesis.) `graders_extra.linear_rnn_on_tape` records exactly this on a tape, one scope per
# time step — read its source if you like, it is ten lines of tinytape ops.

# %%
U, W, V, x, y = graders_extra.seed003_example()
tape, L, P, hs, os = graders_extra.linear_rnn_on_tape(U, W, V, x, y)
for t, (h, o) in enumerate(zip(hs, os), start=1):
    print(f"t={t}: h = {h.value.ravel().round(5)}   o = {o.value.item():.5f}   y = {y[t - 1].item()}")
print("L =", round(float(L.value), 6))

# %%
print(tape)

# %% [markdown]
# Drawn at **cell level** (one box per time step) and at **op level** (every operation), with
# each value coloured by the size of its gradient ‖∂L/∂·‖ after the backward sweep:

# %%
tape_grads = tape.gradient(L, P, retain_all=True)
visuals.draw(tape, level="cell", grads=True)

# %%
visuals.draw(tape, level="op", grads=True)

# %% [markdown]
# ## 2. The recursion (seed 001, d2l 9.7.13–9.7.16)
#
# At the last step $L$ depends on $h^{\langle T\rangle}$ only through $o^{\langle T\rangle}$; at an
# earlier step it depends on $h^{\langle t\rangle}$ through $o^{\langle t\rangle}$ **and** through
# $h^{\langle t+1\rangle}$:
#
# $$\frac{\partial L}{\partial h_T} = V^\top \frac{\partial L}{\partial o_T},\qquad
#   \frac{\partial L}{\partial h_t} = W^\top \frac{\partial L}{\partial h_{t+1}} + V^\top \frac{\partial L}{\partial o_t}$$
#
# and, because $W$, $U$, $V$ are shared by every step, their gradients are sums over time:
#
# $$\frac{\partial L}{\partial W} = \sum_t \frac{\partial L}{\partial h_t} h_{t-1}^\top,\qquad
#   \frac{\partial L}{\partial U} = \sum_t \frac{\partial L}{\partial h_t} x_t^\top,\qquad
#   \frac{\partial L}{\partial V} = \sum_t \frac{\partial L}{\partial o_t} h_t^\top,\qquad
#   \frac{\partial L}{\partial o_t} = o_t - y_t$$
#
# ### Exercise 1.1 — `linear_rnn_bptt`
#
# Write the forward pass (keep every $h_t$), then one backward loop from $t = T$ down to 1
# that carries ∂L/∂h_{t+1} and accumulates the three weight gradients. `x` and `y` are lists
# of column vectors. Return `{"dU": ..., "dW": ..., "dV": ...}`.

# %%
@lab.exercise
def linear_rnn_bptt(U, W, V, x, y):
    """Gradients of L = Σ_t ½ (V h_t − y_t)² for h_t = W h_{t−1} + U x_t, h_0 = 0."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 1.1: write linear_rnn_bptt")


# %%
lab.check("linear_rnn_bptt", linear_rnn_bptt)

# %%
print("the tape's gradients for seed 003's example:")
for k in ("U", "W", "V"):
    print(f"∂L/∂{k} =", tape_grads[k].ravel().round(6))

# %% [markdown]
# ## 3. The expansion, and where vanishing gradients come from
#
# Unrolling the recursion gives seed 001's eq. (9.7.15):
#
# $$\frac{\partial L}{\partial h_t} = \sum_{i=t}^{T} \big(W^\top\big)^{T-i}\, V^\top\,
#   \frac{\partial L}{\partial o_{T+t-i}}$$
#
# The loss at step $s = T+t-i$ reaches $h_t$ through $s - t$ factors of $W^\top$. When the
# eigenvalues of $W$ are below 1 in size those powers shrink geometrically (a vanishing
# gradient); above 1 they grow (an exploding one). Lesson 2 is about exactly this.
#
# ### Exercise 1.2 — `dL_dh_expansion`
#
# Implement the sum literally (`np.linalg.matrix_power` helps). `dL_do[s - 1]` is
# ∂L/∂o_s for s = 1 … T; `t` counts from 1. The grader compares with the tape's ∂L/∂h_t for
# every t (the tape can differentiate with respect to intermediate values too:
# `tape.gradient(L, hs)`).

# %%
@lab.exercise
def dL_dh_expansion(W, V, dL_do, t):
    """∂L/∂h_t by (9.7.15)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 1.2: write dL_dh_expansion")


# %%
lab.check("dL_dh_expansion", dL_dh_expansion)

# %% [markdown]
# ## 4. Let the tape check a textbook
#
# Seed 003 continues its example by hand and writes the step-to-step factor as
# $\delta_m^{\langle t\rangle} = \partial h_m^{\langle t\rangle}/\partial h_m^{\langle t-1\rangle} = W_{m,m}$: unit $m$
# is taken to depend on its **own** previous value only. That is true when $W$ is diagonal.
# Here every entry of $W$ is 0.5, so unit 1 also hears units 2 and 3 at the previous step.
# Below, that shortcut (with the exponents written the way the recursion gives them:
# $\partial L/\partial U_{m} = \sum_t (o_t - y_t) V_m \sum_{\tau \le t} W_{mm}^{\,t-\tau} x_\tau$)
# is compared with the tape, for the seed's full $W$ and for a diagonal one.

# %%
def shortcut_dU(U, W, V, x, y):
    """Seed 003's shortcut: each unit feeds only itself (δ = W_mm)."""
    _, _, _, hs, os = graders_extra.linear_rnn_on_tape(U, W, V, x, y)
    dU = np.zeros_like(U)
    for t in range(1, len(x) + 1):
        err = os[t - 1].value.item() - y[t - 1].item()
        for m in range(U.shape[0]):
            dU[m, 0] += err * V[0, m] * sum(W[m, m] ** (t - tau) * x[tau - 1].item() for tau in range(1, t + 1))
    return dU


for label, W_case in (("W full of 0.5 (seed 003)", W), ("W = 0.5·I (diagonal)", 0.5 * np.eye(3))):
    tape_c, L_c, P_c, _, _ = graders_extra.linear_rnn_on_tape(U, W_case, V, x, y)
    print(label)
    print(tt.check.compare({"dU": shortcut_dU(U, W_case, V, x, y)}, {"dU": tape_c.gradient(L_c, P_c)["U"]},
                           labels=("shortcut δ = W_mm", "tape"), rtol=1e-9))
    print()

# %% [markdown]
# The shortcut is exact for a diagonal $W$ and wrong for the seed's $W$: the paths from
# $x^{\langle\tau\rangle}$ through the *other* hidden units are missing. The full recursion of
# Exercise 1.1 ($W^\top$, a matrix, not $W_{mm}$) has them. The printed example also repeats
# $x^{(1)}$ where $x^{(2)}$ belongs — one more reason to let a tape check derivations.

# %% [markdown]
# ## 5. The thesis's RNN cell, in the lab's exercise style
#
# From here on we use the lab's notation and shapes (see `CONVENTIONS.md`): a batch of `m`
# sequences `x` of shape `(n_x, m, T_x)`, states `(n_h, m)`, and the tanh cell of (4-2):
#
# $$h^{\langle t\rangle} = \tanh\big(W_h h^{\langle t-1\rangle} + W_x x^{\langle t\rangle} + b_h\big)$$
#
# The exercise style, which the LSTM and GRU lessons follow too: a **forward** returns its
# outputs and a `cache` of whatever the backward will need; a **backward** takes the gradient
# arriving at the outputs plus that cache and returns a dict of gradients named `d` + the
# argument or parameter name (`dxt`, `dh_prev`, `dWh`, `dWx`, `dbh`).
#
# The graders use the tape as referee on **your own forward**: they run it on tensors,
# differentiate it, and compare with your backward — and they tell you which gradient is
# wrong and where to look.
#
# ### Exercise 1.3 — `rnn_cell_forward`

# %%
@lab.exercise
def rnn_cell_forward(xt, h_prev, parameters):
    """One step of (4-2). xt (n_x, m), h_prev (n_h, m); parameters Wh, Wx, bh. Returns (h_next, cache)."""
    # YOUR CODE HERE (use np.tanh and @)
    raise NotImplementedError("Exercise 1.3: write rnn_cell_forward")


# %%
lab.check("rnn_cell_forward", rnn_cell_forward)

# %% [markdown]
# ### Exercise 1.4 — `rnn_cell_backward`
#
# With $z = W_h h^{\langle t-1\rangle} + W_x x^{\langle t\rangle} + b_h$ and $h = \tanh z$:
# $\partial L/\partial z = \partial L/\partial h \odot (1 - h^2)$, then (4-10), (4-12), (4-14).
# Remember that `bh` is broadcast over the batch, so its gradient is summed over it.

# %%
@lab.exercise
def rnn_cell_backward(dh_next, cache):
    """Returns {"dxt", "dh_prev", "dWx", "dWh", "dbh"}."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 1.4: write rnn_cell_backward")


# %%
lab.check("rnn_cell_backward", rnn_cell_backward, rnn_cell_forward)

# %% [markdown]
# ### Exercise 1.5 — `rnn_forward` and `rnn_backward`
#
# The forward loops the cell over $t = 1 \dots T_x$ and stacks the states into `H` of shape
# `(n_h, m, T_x)`. The backward loops **backwards**; at each step the gradient reaching
# $h^{\langle t\rangle}$ is what the output sends (`dH[:, :, t]`) **plus** what step $t+1$ sent back
# (4-5). Weight gradients are accumulated over time; also return `dx` and `dh0`.

# %%
@lab.exercise
def rnn_forward(x, h0, parameters):
    """x (n_x, m, T_x), h0 (n_h, m) -> (H (n_h, m, T_x), caches)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 1.5: write rnn_forward")


@lab.exercise
def rnn_backward(dH, caches):
    """dH (n_h, m, T_x) -> {"dx", "dh0", "dWh", "dWx", "dbh"}."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 1.5: write rnn_backward")


# %%
lab.check("rnn_forward", rnn_forward)

# %%
lab.check("rnn_backward", rnn_backward, rnn_forward)

# %% [markdown]
# ## 6. The unrolled graph
#
# `cells.record.record` records the library's RNN (the same math) with its loss on a tape;
# every step runs under a scope `rnn/t=<t>`, so the drawing clusters by time. At cell level it
# is the thesis's Figure 4-1; at op level you see inside each box. The colours show the
# gradient reaching each state: follow them back in time.

# %%
import cells
from cells import record

rng = np.random.default_rng(0)
params = cells.get("rnn").init_params(n_x=1, n_h=3, n_y=1, seed=0)
X = rng.normal(size=(1, 2, 5))           # 2 sequences, 5 steps
Y = rng.normal(size=(1, 2))
rnn_tape, rnn_loss, rnn_params = record.record("rnn", params, X, Y)
rnn_tape.gradient(rnn_loss, rnn_params, retain_all=True)
visuals.draw(rnn_tape, level="cell", grads=True)

# %%
visuals.draw(rnn_tape, level="op", grads=True)

# %% [markdown]
# ## What you saw
#
# - BPTT is ordinary backpropagation on the unrolled graph; shared weights collect a sum
#   over time.
# - ∂L/∂h_t is a sum of terms carrying powers of $W^\top$: the seed of vanishing and
#   exploding gradients.
# - A derivation can be checked mechanically — even a textbook's.
#
# Next: **Lesson 2**, where we watch those powers at work.
