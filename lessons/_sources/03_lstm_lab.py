# %% [markdown]
# # Lesson 3 — The LSTM lab, graded by the tape
#
# *About 2 hours. Prerequisites: Lessons 1 and 2.*
#
# This is the thesis's lab (section 5.3, after Ng & deeplearning.ai's "RNN step by step"):
# build an LSTM piece by piece — cell forward, sequence forward, cell backward, sequence
# backward, initialisation, training, prediction. The difference: every grader here runs
# **your own forward on the tape** and uses the tape's gradient as the referee, so a wrong
# gradient is named, measured, and located in your graph — not just marked "wrong".
#
# At the end you will implement two of the thesis's equations exactly as printed and let the
# tape find the slip in them.

# %%
import matplotlib.pyplot as plt
import numpy as np

import cells
import tinytape as tt
import visuals
from cells import train
from lessons import lab

print(lab.banner())


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

# %% [markdown]
# ## 1. The cell (thesis 4.2, equations (4-17)–(4-24))
#
# Every gate reads the concatenation $[h^{\langle t-1\rangle}; x^{\langle t\rangle}]$ (hidden rows first):
#
# $$\Gamma_f = \sigma(W_f[h^{\langle t-1\rangle}; x^{\langle t\rangle}] + b_f)\qquad
#   \Gamma_u = \sigma(W_u[h^{\langle t-1\rangle}; x^{\langle t\rangle}] + b_u)\qquad
#   \tilde c = \tanh(W_c[h^{\langle t-1\rangle}; x^{\langle t\rangle}] + b_c)$$
# $$c^{\langle t\rangle} = \Gamma_f \odot c^{\langle t-1\rangle} + \Gamma_u \odot \tilde c\qquad
#   \Gamma_o = \sigma(W_o[h^{\langle t-1\rangle}; x^{\langle t\rangle}] + b_o)\qquad
#   h^{\langle t\rangle} = \Gamma_o \odot \tanh(c^{\langle t\rangle})$$
#
# Shapes: `xt (n_x, m)`, `h_prev`, `c_prev (n_h, m)`, each `W* (n_h, n_h + n_x)`, each
# `b* (n_h, 1)`. ($u$ is the update gate — the "input gate" $i$ of most books.)
#
# One cell at op level, drawn from the library's LSTM (`cells.record`): the four gates, the
# memory line $c$ and the output — the thesis's Figure 4-3 as a graph.

# %%
from cells import record

lstm = cells.get("lstm")
demo_params = lstm.init_params(n_x=2, n_h=3, n_y=1, seed=0)
demo_tape, demo_loss, demo_tensors = record.record("lstm", demo_params, np.ones((2, 1, 1)), np.zeros((1, 1)))
visuals.draw(demo_tape, level="op")

# %% [markdown]
# ### Exercise 3.1 — `lstm_cell_forward`
#
# Return `(h_next, c_next, cache)`. Put in the cache whatever your backward will need (the
# gates, the states, the concatenation, the parameters). Use NumPy functions (`np.tanh`,
# `np.exp`, `np.concatenate`, `@`) — the grader runs this same code on tape tensors.
# `sigmoid` is defined above.

# %%
@lab.exercise
def lstm_cell_forward(xt, h_prev, c_prev, parameters):
    """One LSTM step. Returns (h_next, c_next, cache)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 3.1: write lstm_cell_forward")


# %%
lab.check("lstm_cell_forward", lstm_cell_forward)

# %% [markdown]
# ## 2. The sequence forward
#
# ### Exercise 3.2 — `lstm_forward`
#
# Loop the cell over $t = 1 \dots T_x$ from $h^{\langle 0\rangle}$ = `h0` and $c^{\langle 0\rangle} = 0$,
# collecting `H` and `C` of shape `(n_h, m, T_x)` and the list of caches. Preallocating
# with `np.zeros` and filling `H[:, :, t] = ...` is fine: the grader records that too.

# %%
@lab.exercise
def lstm_forward(x, h0, parameters):
    """x (n_x, m, T_x), h0 (n_h, m) -> (H, C, caches)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 3.2: write lstm_forward")


# %%
lab.check("lstm_forward", lstm_forward)

# %% [markdown]
# ## 3. The cell backward (thesis (4-30)–(4-44))
#
# Two gradients arrive at a cell from the future: `dh_next` $= \partial L/\partial h^{\langle t\rangle}$
# (from the output at $t$ and from step $t+1$) and `dc_next`, the gradient reaching
# $c^{\langle t\rangle}$ **directly** along the memory line from step $t+1$ (that is
# $\partial L/\partial c^{\langle t+1\rangle} \odot \Gamma_f^{\langle t+1\rangle}$). Then:
#
# $$\frac{\partial L}{\partial c^{\langle t\rangle}} = \mathtt{dc\_next}
#   + \mathtt{dh\_next} \odot \Gamma_o \odot (1 - \tanh^2 c^{\langle t\rangle})\qquad\text{(4-34)}$$
#
# and every gate's pre-activation gradient follows from **that** quantity:
# $dz_o = \mathtt{dh\_next} \odot \tanh c^{\langle t\rangle} \odot \Gamma_o(1-\Gamma_o)$ (4-37),
# $dz_u = \frac{\partial L}{\partial c^{\langle t\rangle}} \odot \tilde c \odot \Gamma_u(1-\Gamma_u)$,
# $dz_c = \frac{\partial L}{\partial c^{\langle t\rangle}} \odot \Gamma_u \odot (1-\tilde c^2)$,
# $dz_f = \frac{\partial L}{\partial c^{\langle t\rangle}} \odot c^{\langle t-1\rangle} \odot \Gamma_f(1-\Gamma_f)$.
# The weights get $dz_\ast [h^{\langle t-1\rangle}; x^{\langle t\rangle}]^\top$, the biases $dz_\ast$ summed over
# the batch; $[dh_{prev}; dx_t] = \sum_\ast W_\ast^\top dz_\ast$ (4-41)–(4-44); and
# $dc_{prev} = \frac{\partial L}{\partial c^{\langle t\rangle}} \odot \Gamma_f$.
#
# ### Exercise 3.3 — `lstm_cell_backward`
#
# Return a dict with `dxt`, `dh_prev`, `dc_prev`, `dWf`, `dbf`, `dWu`, `dbu`, `dWc`, `dbc`,
# `dWo`, `dbo`. When something is wrong, the grader's report names the wrong gradients, the
# size of the error, a diagnosis when it recognises the mistake (a sign, a factor m, a
# transposition, a derivative taken at the wrong point…) and the part of the cell to look at.

# %%
@lab.exercise
def lstm_cell_backward(dh_next, dc_next, cache):
    """Gradients of one LSTM step."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 3.3: write lstm_cell_backward")


# %%
lab.check("lstm_cell_backward", lstm_cell_backward, lstm_cell_forward)

# %% [markdown]
# ## 4. The sequence backward
#
# ### Exercise 3.4 — `lstm_backward`
#
# `dH[:, :, t]` is the gradient the outputs send to $h^{\langle t\rangle}$. Loop backwards, feeding
# each cell `dH[:, :, t]` plus the `dh_prev` of step $t+1$, and the `dc_prev` of step $t+1$;
# accumulate the weight gradients; return them with `dx` `(n_x, m, T_x)` and `dh0`.
# If your sequence backward is wrong, the grader also says at which time step (counting
# back from the end) your ∂L/∂h⟨t⟩ first stops agreeing with the tape.

# %%
@lab.exercise
def lstm_backward(dH, caches):
    """dH (n_h, m, T_x) -> dx, dh0 and the gate gradients summed over time."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 3.4: write lstm_backward")


# %%
lab.check("lstm_backward", lstm_backward, lstm_forward)

# %% [markdown]
# ## 5. Initialisation
#
# The thesis initialises every weight matrix from a normal distribution and the biases at
# zero. **Glorot (Xavier) normal** uses $\sigma = \sqrt{2/(\mathrm{fan\_in} + \mathrm{fan\_out})}$; for a
# gate matrix fan_in $= n_h + n_x$ (it reads $[h; x]$) and fan_out $= n_h$. (Section 5.2.1
# writes $\sigma = \sqrt{2/N}$ with $N$ the fan-in and calls it Xavier normal: that formula
# is He initialisation. Both are reasonable; name a scheme by what it computes.)
#
# ### Exercise 3.5 — `initialize_lstm_parameters`
#
# Return the dict with `Wf bf Wu bu Wc bc Wo bo Wy by`, drawing from
# `np.random.default_rng(seed)`. There is no gradient to check here, so the grader checks the
# shapes, the zero biases, the spread on a large draw, and that the seed is honoured.

# %%
@lab.exercise
def initialize_lstm_parameters(n_x, n_h, n_y, seed=0):
    """Glorot-normal gate and output weights, zero biases."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 3.5: write initialize_lstm_parameters")


# %%
lab.check("initialize_lstm_parameters", initialize_lstm_parameters)

# %% [markdown]
# ## 6. Training
#
# The thesis's model is sequence-to-one: $\hat y = W_y h^{\langle T_x\rangle} + b_y$ with the loss
# (5-1), $L = \frac{1}{2m}\sum_i (\hat y_i - y_i)^2$. So only the last step receives a gradient
# from the output: $\partial L/\partial \hat y = (\hat y - y)/m$ and
# `dH[:, :, -1]` $= W_y^\top\,\partial L/\partial \hat y$.
#
# ### Exercise 3.6 — `lstm_loss_and_grads`
#
# Use your `lstm_forward` and `lstm_backward` (with `h0 = 0`) and add the head. Return
# `(loss, grads)` with every parameter's gradient, `dWy` and `dby` included. The grader
# compares with the tape differentiating the whole model (`cells.lstm.loss_and_grads(...,
# method="tape")`).

# %%
@lab.exercise
def lstm_loss_and_grads(parameters, X, Y):
    """Seq-to-one loss (5-1) and all parameter gradients."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 3.6: write lstm_loss_and_grads")


# %%
lab.check("lstm_loss_and_grads", lstm_loss_and_grads)

# %% [markdown]
# ### Exercise 3.7 — `adam_update`, the thesis's (5-2)
#
# $$v_t = \beta_1 v_{t-1} + (1-\beta_1) g,\quad s_t = \beta_2 s_{t-1} + (1-\beta_2) g^2,\quad
#   \hat v_t = \frac{v_t}{1-\beta_1^t},\quad \hat s_t = \frac{s_t}{1-\beta_2^t},\quad
#   \theta \leftarrow \theta - \eta\,\frac{\hat v_t}{\sqrt{\hat s_t} + \varepsilon}$$
#
# `v` and `s` are dicts keyed like the gradients (`"dWf"`), empty at the start; `t` counts
# steps from 1. Return new `(parameters, v, s)`.

# %%
@lab.exercise
def adam_update(parameters, grads, v, s, t, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """One Adam step (5-2). Returns (parameters, v, s)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 3.7: write adam_update")


# %%
lab.check("adam_update", adam_update)

# %% [markdown]
# Now train with your pieces, in the thesis's setting (windows of 12 values predicting the
# 13th), on a noisy sine wave so that this lesson needs no data file. This is the thesis's
# `model_lstm_adam`: shuffled mini-batches of 64, your loss and gradients, your Adam.
# (While an exercise above is unfinished, the library's version stands in, with a note.)

# %%
from cells import data as cdata

rng = np.random.default_rng(0)
series = np.sin(np.arange(400) * 2 * np.pi / 50) + 0.1 * rng.normal(size=400)
X_all, Y_all = cdata.to_lab_shapes(*cdata.create_sequences(series, 12, 1))
m_train = int(0.8 * X_all.shape[1])
X_train, Y_train = X_all[:, :m_train], Y_all[:, :m_train]
X_test, Y_test = X_all[:, m_train:], Y_all[:, m_train:]

my_init = lab.mine_or(initialize_lstm_parameters, lambda n_x, n_h, n_y, seed=0: lstm.init_params(n_x, n_h, n_y, seed=seed),
                      "cells.lstm.init_params")
my_loss_and_grads = lab.mine_or(lstm_loss_and_grads, lambda p, X, Y: lstm.loss_and_grads(p, X, Y),
                                "cells.lstm.loss_and_grads")


def library_adam(parameters, grads, v, s, t, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    opt = train.Adam(learning_rate, beta1, beta2, epsilon)
    opt.t, opt.v, opt.s = t - 1, {k[1:]: a for k, a in v.items()}, {k[1:]: a for k, a in s.items()}
    new = opt.step(parameters, grads)
    return new, {"d" + k: a for k, a in opt.v.items()}, {"d" + k: a for k, a in opt.s.items()}


my_adam = lab.mine_or(adam_update, library_adam, "cells.train.Adam")

n_h, epochs, batch = lab.fast(32, 8), lab.fast(60, 3), 64
parameters = my_init(1, n_h, 1, seed=0)
v, s, step, losses = {}, {}, 0, []
for epoch in range(epochs):
    order = rng.permutation(m_train)
    total = 0.0
    for start in range(0, m_train, batch):
        idx = order[start:start + batch]
        loss, grads = my_loss_and_grads(parameters, X_train[:, idx], Y_train[:, idx])
        step += 1
        parameters, v, s = my_adam(parameters, {k: grads[k] for k in ["d" + n for n in parameters]}, v, s, step)
        total += loss * len(idx)
    losses.append(total / m_train)
print(f"training loss (5-1): epoch 1 {losses[0]:.4f} -> epoch {epochs} {losses[-1]:.4f}")

# %% [markdown]
# ## 7. Prediction
#
# ### Exercise 3.8 — `predict_lstm`
#
# Run the forward from $h^{\langle 0\rangle} = 0$ and apply the head to the last state: return
# $\hat y$ of shape `(n_y, m)`.

# %%
@lab.exercise
def predict_lstm(X, parameters):
    """ŷ = Wy h⟨T_x⟩ + by for each sequence in X."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 3.8: write predict_lstm")


# %%
lab.check("predict_lstm", predict_lstm)

# %%
my_predict = lab.mine_or(predict_lstm, lambda X, p: lstm.predict(p, X), "cells.lstm.predict")
Y_hat = my_predict(X_test, parameters)
print(f"test MSE: {np.mean((Y_hat - Y_test) ** 2):.4f}")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.5))
ax1.plot(range(1, epochs + 1), losses, marker="o")
ax1.set_xlabel("epoch"), ax1.set_ylabel("loss (5-1)"), ax1.set_title("training")
ax2.plot(Y_test.ravel(), label="truth")
ax2.plot(Y_hat.ravel(), label="your LSTM")
ax2.set_title("test windows: next value"), ax2.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The library trains the same model in one call — `cells.train.fit` is this loop with the same
# Adam, by hand-derived BPTT or through the tape; with the same seed both methods follow the
# same trajectory:

# %%
_, hist_bptt = train.fit("lstm", X_train, Y_train, n_h=n_h, epochs=epochs, method="bptt", progress=False)
_, hist_tape = train.fit("lstm", X_train, Y_train, n_h=n_h, epochs=epochs, method="tape", progress=False)
print("final loss, hand BPTT:", hist_bptt["loss"][-1], "  tape:", hist_tape["loss"][-1])

# %% [markdown]
# One detail of that call: for training, the tape records the LSTM with its **gates stacked**,
# as Keras stores them (`cells.lstm.step_stacked`). The four $W_\ell$ and $b_\ell$ become one
# matrix $[W_f\ b_f;\ W_u\ b_u;\ W_o\ b_o;\ W_c\ b_c]$, one matmul with $[h; x; 1]$ gives all four
# pre-activations, one sigmoid the three gates, and each gate is a slice. It is the same function
# as the per-gate equations (4-20)–(4-24), so the tape must give the same gradients. It does, with
# fewer and larger operations per step: that is all "fast" means here.

# %%
from cells import record

X_small, Y_small = X_train[:, :8, :5], Y_train[:, :8]
p_small = lstm.init_params(1, 4, 1, seed=1)
per_gate, loss_a, tensors_a = record.record("lstm", p_small, X_small, Y_small)
stacked, loss_b, tensors_b = record.record("lstm", p_small, X_small, Y_small, stacked_gates=True)
grads_a, grads_b = per_gate.gradient(loss_a, tensors_a), stacked.gradient(loss_b, tensors_b)
for name, tape in (("per gate", per_gate), ("stacked", stacked)):
    print(f"{name:9s} records in step 2: {sum(r.scope == 'lstm/t=2' for r in tape.records)}")
print("largest gradient difference:", max(np.max(np.abs(grads_a[k] - grads_b[k])) for k in p_small))

# %% [markdown]
# ## 8. Find the slip with the tape
#
# The thesis's (4-34) defines $\partial L/\partial c^{\langle t\rangle}$ **including** the path through
# $h^{\langle t\rangle}$. Then (4-38)–(4-40) compute the gate gradients from
# $\Big(\frac{\partial L}{\partial c^{\langle t\rangle}} + \frac{\partial L}{\partial h^{\langle t\rangle}} \odot \Gamma_o
# \odot (1 - \tanh^2 c^{\langle t\rangle})\Big)$ — adding that same path **again**. Read literally, the
# two equations count it twice.
#
# ### Exercise 3.9 — `lstm_cell_backward_thesis_literal`
#
# Copy your `lstm_cell_backward` and change it to follow the thesis to the letter: compute
# `dc` by (4-34), then use `dc + dh_next * Γo * (1 − tanh²c)` in the update-gate, candidate
# and forget-gate gradients, as (4-38)–(4-40) print them. This grader passes when the tape
# catches exactly the gradients that the double count breaks.

# %%
@lab.exercise
def lstm_cell_backward_thesis_literal(dh_next, dc_next, cache):
    """(4-34) followed by (4-38)-(4-40) exactly as printed."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 3.9: write lstm_cell_backward_thesis_literal")


# %%
lab.check("lstm_cell_backward_thesis_literal", lstm_cell_backward_thesis_literal, lstm_cell_forward)

# %% [markdown]
# Here is the full report of the tape's check, and the drawing of your forward with the part
# the wrong gradients pass through highlighted. The output gate's gradients (`dWo`, `dbo`)
# and `dc_prev` are right; everything that goes through $\Gamma_f$, $\Gamma_u$ and $\tilde c$ is off
# by exactly the double-counted term.

# %%
rng = np.random.default_rng(1)
n_x_s, n_h_s, m_s = 2, 3, 4
slip_params = {k: v for k, v in lstm.init_params(n_x_s, n_h_s, 1, seed=1).items() if k not in ("Wy", "by")}
slip_report = tt.check.backward(lstm_cell_forward, lstm_cell_backward_thesis_literal,
                                rng.normal(size=(n_x_s, m_s)), rng.normal(size=(n_h_s, m_s)),
                                rng.normal(size=(n_h_s, m_s)), slip_params)
print(slip_report)

# %%
if slip_report.tape is not None and slip_report.failures:
    display(visuals.draw(slip_report, title="your forward; highlighted: where the wrong gradients flow"))

# %% [markdown]
# The same tape shows a second, smaller slip: the **simplified** last line of (4-39) drops the
# factor $\partial L/\partial h^{\langle t\rangle}$ (it writes $\Gamma_o \odot (1-\tanh^2 c)$ alone). Try it: change
# only the candidate's line in your literal version and watch `dWc`, `dbc` change in the report.
#
# ## What you saw
#
# - Each piece of the lab, graded by differentiating your own code.
# - Training = your gradients + Adam (5-2) on shuffled mini-batches; the library's `fit` is the
#   same loop.
# - A derivation that reads well can still double count a path; the tape's check pins it to the
#   gates it touches.
#
# Next: **Lesson 4**, the GRU.
