# %% [markdown]
# # Lesson 6 — Beyond the lab: deeper, both ways, and text
#
# *About 60 minutes. Prerequisites: Lessons 1–4.*
#
# Three things the thesis's lab does not build, each one step from what you have:
#
# 1. **Stacked RNNs**: the states of one recurrent layer are the inputs of the next.
# 2. **Bidirectional RNNs** (seed 004, section 3.4): one layer reads the sequence left to
#    right, another right to left, and each step's state is the concatenation
#    $h^{\langle t\rangle} = [\overrightarrow{h}^{\langle t\rangle}; \overleftarrow{h}^{\langle t\rangle}]$.
# 3. **A character-level text model** (seed 004, section 5.1): many-to-many, with a
#    **softmax** over the alphabet at every step and the cross-entropy loss.

# %%
import matplotlib.pyplot as plt
import numpy as np

import cells
import tinytape as tt
import visuals
from cells import record, train
from lessons import lab
from visuals import plots

print(lab.banner())

# %% [markdown]
# ## 1. Stacked and bidirectional layers, on the tape
#
# `cells.deep` builds both from the cells you know; recorded on the tape, they draw like any
# other model — each layer's steps in their own clusters. The backward of a bidirectional
# layer is two ordinary BPTT sweeps running in opposite directions in time.

# %%
from cells import deep

rng = np.random.default_rng(0)
X_small, Y_small = rng.normal(size=(2, 1, 3)), rng.normal(size=(1, 1))
stacked = deep.stacked_init("rnn", n_x=2, n_h=3, n_y=1, depth=2, seed=0)
print("stacked parameters:", sorted(stacked))
st_tape, st_loss, st_params = deep.stacked_record("rnn", stacked, X_small, Y_small)
st_tape.gradient(st_loss, st_params, retain_all=True)
visuals.draw(st_tape, level="cell", grads=True, title="two stacked RNN layers, 3 steps")

# %%
bidir = deep.bidirectional_init("rnn", n_x=2, n_h=3, n_y=1, seed=0)
bi_tape, bi_loss, bi_params = deep.bidirectional_record("rnn", bidir, X_small, Y_small)
bi_tape.gradient(bi_loss, bi_params, retain_all=True)
visuals.draw(bi_tape, level="cell", grads=True, title="a bidirectional RNN layer, 3 steps")

# %% [markdown]
# The hand-derived BPTT of both compositions against the tape, for a stacked LSTM and a
# bidirectional GRU on a small batch:

# %%
X_b, Y_b = rng.normal(size=(2, 4, 5)), rng.normal(size=(1, 4))
for label, init, loss_and_grads, kind in (
        ("stacked LSTM, depth 2", deep.stacked_init, deep.stacked_loss_and_grads, "lstm"),
        ("bidirectional GRU", deep.bidirectional_init, deep.bidirectional_loss_and_grads, "gru")):
    p = init(kind, 2, 3, 1, seed=1)
    _, g_hand = loss_and_grads(kind, p, X_b, Y_b, method="bptt")
    _, g_tape = loss_and_grads(kind, p, X_b, Y_b, method="tape")
    report = tt.check.compare(g_hand, g_tape, labels=("hand BPTT", "tape"), rtol=1e-9)
    print(f"{label}: {'all' if report.ok else 'NOT all'} {len(report.rows)} gradients agree "
          f"(max relative error {report.max_rel:.1e})")

# %% [markdown]
# ### Exercise 6.1 — `birnn_forward`
#
# Build a bidirectional layer from any sequence forward `forward(x, h0, params) -> (H, ...)`
# (e.g. `cells.rnn.forward`): run it on `x` with `params_fwd`; run it on `x` **reversed in
# time** (`x[:, :, ::-1]`) with `params_bwd`, and reverse its states back so that step $t$ of
# both halves refers to the same input; concatenate along the hidden axis. Return `H` of
# shape `(2 n_h, m, T_x)`.

# %%
@lab.exercise
def birnn_forward(x, h0_fwd, h0_bwd, params_fwd, params_bwd, forward):
    """Bidirectional layer: [h→⟨t⟩; h←⟨t⟩] for every t, shape (2 n_h, m, T_x)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 6.1: write birnn_forward")


# %%
lab.check("birnn_forward", birnn_forward)

# %% [markdown]
# Why bother? Left to right, the state at step $t$ knows only $x^{\langle 1\rangle} \dots x^{\langle t\rangle}$.
# The tape shows it: the gradient of a loss on the **first** step's output reaches only the
# first input in a forward RNN, but every input in a bidirectional one.

# %%
rnn = cells.get("rnn")
p_f, p_b = rnn.init_params(1, 4, 1, seed=1), rnn.init_params(1, 4, 1, seed=2)
T_demo = 6
x_seq = tt.Tensor(np.random.default_rng(3).normal(size=(1, 1, T_demo)), name="x")


def sweep(x, params, steps):
    """States of one direction, in input order; `rnn.step` is the library cell's math (works on tensors)."""
    H, h = [None] * T_demo, np.zeros((4, 1))
    for t in steps:
        h, _ = rnn.step(x[:, :, t], h, params)
        H[t] = h
    return H


with tt.Tape(persistent=True) as tape:
    tape.watch(x_seq)
    forward_states = sweep(x_seq, p_f, range(T_demo))
    backward_states = sweep(x_seq, p_b, reversed(range(T_demo)))
    first_forward = forward_states[0].sum()                                               # uses h→⟨1⟩ only
    first_bidirectional = tt.concatenate([forward_states[0], backward_states[0]], axis=0).sum()  # [h→⟨1⟩; h←⟨1⟩]
for label, target in (("forward only ", first_forward), ("bidirectional", first_bidirectional)):
    dx = tape.gradient(target, x_seq)
    print(label, "|∂ h⟨1⟩ / ∂ x⟨t⟩|, t = 1..6:", np.abs(dx[0, 0]).round(4))

# %% [markdown]
# ## 2. Softmax and cross-entropy
#
# For classification the head is $\hat y = \mathrm{softmax}(z)$, $z = W_y h + b_y$, and the loss
# the mean cross-entropy $L = -\frac1m \sum_i \sum_k y_{ki} \log \hat y_{ki}$ with one-hot $y$.
# Their composition has the famously simple gradient $\partial L/\partial z = (\hat y - y)/m$ —
# everything else cancels.
#
# ### Exercise 6.2 — softmax cross-entropy, forward and backward
#
# `softmax_cross_entropy_forward(z, y)` returns `(loss, cache)` — subtract each column's max
# before `np.exp` so it cannot overflow; `softmax_cross_entropy_backward(dloss, cache)` returns
# `{"dz": ...}`. The grader checks both against the tape.

# %%
@lab.exercise
def softmax_cross_entropy_forward(z, y):
    """Mean cross-entropy of softmax(z) (over rows) against one-hot y; z, y (n_y, m)."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 6.2: write softmax_cross_entropy_forward")


@lab.exercise
def softmax_cross_entropy_backward(dloss, cache):
    """{"dz": ∂L/∂z} times the upstream gradient dloss."""
    # YOUR CODE HERE
    raise NotImplementedError("Exercise 6.2: write softmax_cross_entropy_backward")


# %%
lab.check("softmax_cross_entropy_backward", softmax_cross_entropy_backward, softmax_cross_entropy_forward)

# %% [markdown]
# ## 3. A character-level language model
#
# Seed 004 ends with Keras's text generator: an LSTM reading characters and predicting the next
# one at every step. Here is the same model on our cells: a short public-domain text (the first
# lines of *Alice's Adventures in Wonderland*, 1865), one-hot characters, windows of $T$
# characters with the targets shifted by one (many-to-many), `head="seq2seq"`,
# `output="softmax"`.

# %%
text = ("Alice was beginning to get very tired of sitting by her sister on the bank, and of "
        "having nothing to do: once or twice she had peeped into the book her sister was reading, "
        "but it had no pictures or conversations in it, and what is the use of a book, thought "
        "Alice, without pictures or conversations? ").lower()
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
vocab = len(chars)
T = 16
starts = np.arange(0, len(text) - T - 1, 2)
one_hot = np.eye(vocab)
X_txt = np.stack([one_hot[[index[c] for c in text[s:s + T]]].T for s in starts], axis=1)          # (vocab, m, T)
Y_txt = np.stack([one_hot[[index[c] for c in text[s + 1:s + T + 1]]].T for s in starts], axis=1)  # (vocab, m, T)
print(f"{vocab} distinct characters, {X_txt.shape[1]} windows of {T}: X {X_txt.shape}, Y {Y_txt.shape}")

# %% [markdown]
# First, the usual check: the hand-derived gradient of the softmax sequence model against
# the tape's, for a few windows.

# %%
lstm = cells.get("lstm")
p0 = lstm.init_params(vocab, 8, vocab, seed=0)
_, g_hand = lstm.loss_and_grads(p0, X_txt[:, :4], Y_txt[:, :4], method="bptt", head="seq2seq", output="softmax")
_, g_tape = lstm.loss_and_grads(p0, X_txt[:, :4], Y_txt[:, :4], method="tape", head="seq2seq", output="softmax")
print(tt.check.compare(g_hand, g_tape, labels=("hand BPTT", "tape"), rtol=1e-9))

# %%
n_h, epochs = lab.fast(64, 8), lab.fast(150, 2)
params_txt, history = train.fit("lstm", X_txt, Y_txt, n_h=n_h, epochs=epochs, batch_size=32, lr=1e-2,
                                head="seq2seq", output="softmax", progress=not lab.FAST)
fig, ax = plt.subplots(figsize=(6, 3.5))
plots.plot_losses({"char LSTM": history["loss"]}, ax=ax)
ax.set_title("mean cross-entropy per character (nats)")
plt.show()
print(f"cross-entropy {history['loss'][0]:.3f} -> {history['loss'][-1]:.3f} nats/char "
      f"(uniform guessing: log {vocab} = {np.log(vocab):.3f})")

# %% [markdown]
# ### Sampling
#
# To generate text, run the cell one step at a time: feed a character, turn the head's
# softmax into a distribution, draw the next character from it, feed that back. The
# temperature divides the logits: below 1 the model plays safe, above 1 it takes risks.

# %%
def sample(params, seed_text, length=120, temperature=0.7, seed=0):
    rng = np.random.default_rng(seed)
    h = np.zeros((params["Wf"].shape[0], 1))
    c = np.zeros_like(h)
    out = seed_text
    for ch in seed_text:                                   # read the prompt
        h, c, _ = lstm.cell_forward(one_hot[[index[ch]]].T, h, c, params)
    for _ in range(length):
        logits = (params["Wy"] @ h + params["by"]).ravel() / temperature
        p = np.exp(logits - logits.max())
        p /= p.sum()
        ch = chars[rng.choice(vocab, p=p)]
        out += ch
        h, c, _ = lstm.cell_forward(one_hot[[index[ch]]].T, h, c, params)
    return out


for temperature in (0.5, 1.0):
    print(f"T = {temperature}: {sample(params_txt, 'alice ', temperature=temperature)!r}")

# %% [markdown]
# With a few hundred characters of training text the model mostly learns to spell the text
# back; with a book and a few hours it learns words and punctuation — the same code.
#
# ## What you saw
#
# - Stacked and bidirectional layers are compositions of the cells you built; the tape
#   differentiates the composition without new derivations.
# - Softmax + cross-entropy gives $\hat y - y$; a many-to-many model sends that into every
#   step's state.
#
# That is the end of the lessons. The gradient-agreement suite (`tinytape agree`) and the
# drawing command (`tinytape draw`) are there when you teach this yourself.
