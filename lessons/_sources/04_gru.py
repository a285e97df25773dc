# %% [markdown]
# # Lesson 4 — The GRU, in two conventions
#
# *About 75 minutes. Prerequisite: Lesson 3.*
#
# The thesis's GRU (section 4.3, equations (4-45)–(4-50), Cho et al. 2014) has two gates and
# no separate memory cell:
#
# $$\Gamma_u = \sigma(W_u[h^{\langle t-1\rangle}; x^{\langle t\rangle}] + b_u)\qquad
#   \Gamma_r = \sigma(W_r[h^{\langle t-1\rangle}; x^{\langle t\rangle}] + b_r)$$
# $$\tilde h = \tanh(W_h[\Gamma_r \odot h^{\langle t-1\rangle};\ x^{\langle t\rangle}] + b_h)\qquad
#   h^{\langle t\rangle} = \Gamma_u \odot \tilde h + (1 - \Gamma_u) \odot h^{\langle t-1\rangle}$$
#
# (The thesis's (4-61) writes $[\Gamma_r, h]$ where $[\Gamma_r \odot h, x]$ is meant.) We follow the
# lab's path — cell forward, sequence forward, cell backward, sequence backward, training —
# and then meet the **other** GRU: the one Keras builds by default, whose numbers differ from
# the lab's even with "the same" weights.

# %%
import matplotlib.pyplot as plt
import numpy as np

import cells
import tinytape as tt
import visuals
from cells import record, train
from lessons import lab

print(lab.banner())


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


gru = cells.get("gru")
gru_keras = cells.get("gru_keras")

# %% [markdown]
# One GRU step at op level (the library's cell, recorded): note the reset gate multiplying
# $h^{\langle t-1\rangle}$ **before** the matrix product, and the two paths from $h^{\langle t-1\rangle}$ to
# $h^{\langle t\rangle}$ through $\Gamma_u$.

# %%
demo_params = gru.init_params(n_x=2, n_h=3, n_y=1, seed=0)
demo_tape, _, _ = record.record("gru", demo_params, np.ones((2, 1, 1)), np.zeros((1, 1)))
visuals.draw(demo_tape, level="op")

# %% [markdown]
# ## 1. Exercise 4.1 — `gru_cell_forward`
#
# Return `(h_next, cache)`. Shapes as in the LSTM lesson: `W* (n_h, n_h + n_x)`, `b* (n_h, 1)`.

# %%
@lab.exercise
def gru_cell_forward(xt, h_prev, parameters):
    """One GRU step, lab convention. Returns (h_next, cache)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 4.1: write gru_cell_forward")


# %%
lab.check("gru_cell_forward", gru_cell_forward)

# %% [markdown]
# ## 2. Exercise 4.2 — `gru_forward`
#
# Loop the cell from `h0`; return `(H, caches)` with `H` of shape `(n_h, m, T_x)`.

# %%
@lab.exercise
def gru_forward(x, h0, parameters):
    """x (n_x, m, T_x), h0 (n_h, m) -> (H, caches)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 4.2: write gru_forward")


# %%
lab.check("gru_forward", gru_forward)

# %% [markdown]
# ## 3. Exercise 4.3 — `gru_cell_backward`
#
# $h^{\langle t\rangle}$ depends on $\Gamma_u$ twice (through $\Gamma_u \tilde h$ and through
# $(1-\Gamma_u) h^{\langle t-1\rangle}$), so $\partial L/\partial \Gamma_u = \mathtt{dh\_next} \odot (\tilde h - h^{\langle t-1\rangle})$.
# And **four** paths reach $h^{\langle t-1\rangle}$: the $(1 - \Gamma_u)$ shortcut, through
# $\Gamma_r \odot h^{\langle t-1\rangle}$ inside $\tilde h$, and through the two gates' matrices. Missing one
# of them is the most common GRU bug; the grader's diagnosis names it.
#
# Return `dxt`, `dh_prev`, `dWu`, `dbu`, `dWr`, `dbr`, `dWh`, `dbh`.

# %%
@lab.exercise
def gru_cell_backward(dh_next, cache):
    """Gradients of one GRU step (lab convention)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 4.3: write gru_cell_backward")


# %%
lab.check("gru_cell_backward", gru_cell_backward, gru_cell_forward)

# %% [markdown]
# ## 4. Exercise 4.4 — `gru_backward`
#
# As `lstm_backward`, with only $h$ carried back. Return `dx`, `dh0` and the gate gradients
# summed over time. The grader records **your** `gru_forward` on the tape and compares.

# %%
@lab.exercise
def gru_backward(dH, caches):
    """dH (n_h, m, T_x) -> dx, dh0 and the gate gradients summed over time."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 4.4: write gru_backward")


# %%
lab.check("gru_backward", gru_backward, gru_forward)

# %% [markdown]
# ## 5. Training
#
# The training loop is the LSTM's (Lesson 3); here we let `cells.train.fit` run it, by hand
# BPTT and through the tape, on the same noisy sine wave. Same seed, same trajectory.

# %%
from cells import data as cdata

rng = np.random.default_rng(0)
series = np.sin(np.arange(400) * 2 * np.pi / 50) + 0.1 * rng.normal(size=400)
X_all, Y_all = cdata.to_lab_shapes(*cdata.create_sequences(series, 12, 1))
m_train = int(0.8 * X_all.shape[1])
X_train, Y_train, X_test, Y_test = X_all[:, :m_train], Y_all[:, :m_train], X_all[:, m_train:], Y_all[:, m_train:]

n_h, epochs = lab.fast(32, 8), lab.fast(60, 3)
histories = {}
for method in ("bptt", "tape"):
    params_gru, histories[f"GRU ({method})"] = train.fit("gru", X_train, Y_train, n_h=n_h, epochs=epochs,
                                                         method=method, progress=False)
for label, h in histories.items():
    print(f"{label}: loss {h['loss'][0]:.4f} -> {h['loss'][-1]:.4f}")
Y_hat = train.predict("gru", params_gru, X_test)
print(f"test MSE: {np.mean((Y_hat - Y_test) ** 2):.4f}")

# %% [markdown]
# ## 6. Why Keras's GRU numbers differ from the lab's
#
# TensorFlow 2's `keras.layers.GRU` defaults to `reset_after=True`, a different cell:
#
# $$z = \sigma(K_z^\top x + R_z^\top h + b_z)\quad r = \sigma(K_r^\top x + R_r^\top h + b_r)\quad
#   \tilde h = \tanh\big(K_h^\top x + b^{in}_h + r \odot (R_h^\top h + b^{rec}_h)\big)\quad
#   h^{\langle t\rangle} = z \odot h^{\langle t-1\rangle} + (1 - z) \odot \tilde h$$
#
# Three differences, each enough to change the numbers:
#
# 1. **The reset gate acts after the matrix product** (on $R_h^\top h$, not on $h$), and that
#    branch has its own bias $b^{rec}_h$: the bias is `(2, 3n_h)`. No choice of lab weights
#    reproduces this cell exactly — they are different functions.
# 2. **$z$ weights the old state**: Keras's $z$ plays the lab's $1 - \Gamma_u$. (That one is just
#    a relabelling: $z = \sigma(-(W_u[h;x]+b_u))$, a sign flip of the weights.)
# 3. **Keras's own arrays and initialisers**: `kernel (n_x, 3n_h)` (Glorot uniform),
#    `recurrent_kernel (n_h, 3n_h)` (orthogonal), gate blocks in the order z, r, h — and its
#    `fit` reports the loss as $\frac1m\sum(\hat y - y)^2$, twice the thesis's (5-1).
#
# `reset_after=False` is the lab's cell exactly (with the sign flip); `cells.gru_keras` is the
# `reset_after=True` cell in our column layout, keeping Keras's arrays as its parameters.
#
# ### Exercise 4.5 — `gru_keras_cell_forward`
#
# Write one step of the Keras cell on our shapes: `xt (n_x, m)`, `h_prev (n_h, m)`,
# parameters `kernel`, `recurrent_kernel`, `bias`. Slice the blocks z, r, h out of the
# `3n_h` columns (rows after transposing). Return `(h_next, cache)`.

# %%
@lab.exercise
def gru_keras_cell_forward(xt, h_prev, parameters):
    """One step of Keras's GRU (reset_after=True) on the lab's column shapes."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 4.5: write gru_keras_cell_forward")


# %%
lab.check("gru_keras_cell_forward", gru_keras_cell_forward)

# %% [markdown]
# Now the difference in numbers. Take lab GRU weights, convert them to Keras's arrays (sign
# flip and all, `cells.keras.to_keras_weights`), and run both cells on the same sequences.
# The `reset_after=True` cell needs a second bias row: we give it zeros. With the reset gate
# wide open ($\Gamma_r \approx 1$, forced by a large $b_r$) the two cells compute the same
# function — the **only** structural difference is where the reset acts:

# %%
from cells import keras as ckeras

rng = np.random.default_rng(3)
p_lab = gru.init_params(n_x=1, n_h=4, n_y=1, seed=3)
p_lab["bu"], p_lab["bh"] = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
X_cmp = rng.normal(size=(1, 5, 8))
h0 = np.zeros((4, 5))


def as_keras_cell(p):
    kernel, recurrent_kernel, bias = ckeras.to_keras_weights("gru", p)
    return {"kernel": kernel, "recurrent_kernel": recurrent_kernel,
            "bias": np.stack([bias, np.zeros_like(bias)]), "Wy": p["Wy"], "by": p["by"]}


for label, br in (("reset gate as initialised", None), ("reset gate wide open (b_r = 30)", 30.0)):
    p = dict(p_lab)
    if br is not None:
        p["br"] = np.full((4, 1), br)
    H_lab = gru.forward(X_cmp, h0, p)[0]
    H_keras = gru_keras.forward(X_cmp, h0, as_keras_cell(p))[0]
    print(f"{label:34s} max |h_lab − h_keras| = {np.max(np.abs(H_lab - H_keras)):.2e}")

# %% [markdown]
# And against TensorFlow itself, when it is installed: Keras's `GRU(reset_after=False)` with
# the converted weights reproduces the lab's GRU to rounding error; `GRU(reset_after=True)`
# reproduces `cells.gru_keras`.

# %%
if lab.have("tensorflow"):
    Y_lab = gru.predict(p_lab, X_cmp)
    Y_tf_lab = ckeras.tf_predict("gru", p_lab, X_cmp)
    p_k = as_keras_cell(p_lab)
    Y_tf_keras = ckeras.tf_predict("gru_keras", p_k, X_cmp)
    print("lab GRU vs Keras GRU(reset_after=False):", f"{np.max(np.abs(Y_lab - Y_tf_lab)):.1e}")
    print("cells.gru_keras vs Keras GRU(reset_after=True):",
          f"{np.max(np.abs(gru_keras.predict(p_k, X_cmp) - Y_tf_keras)):.1e}")
    print("lab GRU vs Keras's default GRU, same converted weights:", f"{np.max(np.abs(Y_lab - Y_tf_keras)):.1e}")
else:
    print("TensorFlow is not installed (or does not import): skipping the comparison with Keras "
          "(pip install 'tinytape[tf]' to run it).")

# %% [markdown]
# So when the thesis's Table 6-1 shows its Keras GRU at a different loss than its hand GRU,
# part of it is the cell (reset after the product), part the initialisers, and part the loss
# convention ($\frac1m$ vs $\frac1{2m}$: Keras's 0.0099 is about 0.0049 in the thesis's units).
#
# ## What you saw
#
# - The GRU by hand, each piece graded by the tape on your own code.
# - "GRU" names two different cells; the lab's equals Keras's `reset_after=False`, and
#   TensorFlow's default is the other one.
#
# Next: **Lesson 5**, the thesis's experiment on Colombian inflation.
