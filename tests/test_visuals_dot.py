"""Structure of the DOT drawings: counts derived from the tape's records, clusters in time
order, the cell-level collapse, highlight paths, gradient colours, notation and escaping."""
from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

import tinytape as tt
from _dot_parse import ParsedDot
from visuals import draw
from visuals.colors import PALETTE, ZERO_COLOR, luminance
from visuals.style import HIGHLIGHT

N_X, N_H, M = 2, 3, 2


def lstm_tape(T: int, seed: int = 0, grads: bool = True):
    """An LSTM written here with tinytape ops (CONVENTIONS.md's equations), scoped and named
    as cells.record does, independent of the cells package."""
    rng = np.random.default_rng(seed)
    params = {}
    for g in "fuco":
        params["W" + g] = tt.Tensor(rng.normal(0, 0.6, (N_H, N_H + N_X)), name="W" + g)
        params["b" + g] = tt.Tensor(rng.normal(0, 0.1, (N_H, 1)), name="b" + g)
    params["Wy"] = tt.Tensor(rng.normal(0, 0.6, (1, N_H)), name="Wy")
    params["by"] = tt.Tensor(np.zeros((1, 1)), name="by")
    X = rng.normal(size=(N_X, M, T))
    Y = rng.normal(size=(1, M))
    with tt.Tape(persistent=True) as tape:
        for p in params.values():
            tape.watch(p)
        h = tt.Tensor(np.zeros((N_H, M)), name="h0")
        c = tt.Tensor(np.zeros((N_H, M)), name="c0")
        tape.watch(h, c)
        for t in range(1, T + 1):
            with tt.scope(f"lstm/t={t}"):
                x = tt.Tensor(X[:, :, t - 1], name=f"x{t}")
                tape.watch(x)
                hx = tt.concatenate([h, x], axis=0)
                gf = tt.sigmoid(params["Wf"] @ hx + params["bf"])
                gu = tt.sigmoid(params["Wu"] @ hx + params["bu"])
                cc = tt.tanh(params["Wc"] @ hx + params["bc"])
                go = tt.sigmoid(params["Wo"] @ hx + params["bo"])
                gf.name, gu.name, cc.name, go.name = f"Γf{t}", f"Γu{t}", f"c̃{t}", f"Γo{t}"
                c = gf * c + gu * cc
                c.name = f"c{t}"
                h = go * tt.tanh(c)
                h.name = f"h{t}"
        with tt.scope("head"):
            y_hat = params["Wy"] @ h + params["by"]
            y_hat.name = "y_hat"
            err = y_hat - Y
            loss = tt.sum(err * err) / (2 * M)
            loss.name = "loss"
    if grads:
        tape.gradient(loss, params, retain_all=True)
    return tape, loss, params


@pytest.fixture(scope="module")
def lstm4():
    return lstm_tape(4)


def keys_of(tape):
    """Every key on the tape (outputs and tensor inputs) and the watched parameter keys."""
    keys = set()
    for record in tape.records:
        keys.add(record.output)
        keys.update(k for k in record.inputs if k is not None)
    return keys


def node_named(parsed: ParsedDot, html_name: str) -> str:
    ids = parsed.ids_with(f"<B>{html_name}</B>")
    assert len(ids) == 1, (html_name, ids)
    return ids[0]


# -- op level -------------------------------------------------------------------------
def test_op_level_counts_match_the_records(lstm4):
    tape = lstm4[0]
    parsed = ParsedDot(draw(tape).source)
    records = tape.records
    op_nodes = [n for n in parsed.nodes if n.startswith("op")]
    value_nodes = [n for n in parsed.nodes if n.startswith("v")]
    assert len(op_nodes) == len(records)
    assert len(value_nodes) == len(keys_of(tape))
    expected_edges = sum(1 for r in records for k in r.inputs if k is not None) + len(records)
    assert len(parsed.edges) == expected_edges
    # one cluster per distinct scope prefix: lstm, lstm/t=1..4, head
    prefixes = {tuple(r.scope.split("/")[:i]) for r in records for i in range(1, len(r.scope.split("/")) + 1)}
    assert len(parsed.clusters) == len(prefixes) == 6


def test_every_edge_follows_the_data_flow(lstm4):
    tape = lstm4[0]
    parsed = ParsedDot(draw(tape).source)
    edges = {(a, b) for a, b, _ in parsed.edges}
    for record in tape.records:
        assert (f"op{record.index}", _value_id(parsed, tape, record.output)) in edges
    # the op feeding h⟨2⟩ is a ⊙ whose inputs come from the same step
    h2 = node_named(parsed, "h⟨2⟩")
    (producer,) = [a for a, b in edges if b == h2]
    assert 'label="⊙"' in parsed.nodes[producer]


def _value_id(parsed, tape, key):
    order = []
    seen = set()
    for k in list(tape.leaves):
        if k not in seen:
            seen.add(k)
            order.append(k)
    for record in tape.records:
        for k in (*[k for k in record.inputs if k is not None], record.output):
            if k not in seen:
                seen.add(k)
                order.append(k)
    return f"v{order.index(key)}"


def test_a_shared_parameter_is_drawn_once_with_an_edge_to_every_step(lstm4):
    tape = lstm4[0]
    parsed = ParsedDot(draw(tape).source)
    wf = node_named(parsed, "W<SUB>f</SUB>")
    uses = [b for a, b, _ in parsed.edges if a == wf]
    assert len(uses) == 4  # one matmul per step
    steps = {parsed.cluster_labels[parsed.node_cluster[op]] for op in uses}
    assert steps == {"step 1", "step 2", "step 3", "step 4"}
    assert parsed.cluster_labels[parsed.node_cluster[wf]] == "LSTM"  # outside the steps


def test_repeat_params_draws_one_copy_per_step(lstm4):
    tape = lstm4[0]
    parsed = ParsedDot(draw(tape, repeat_params=True).source)
    copies = parsed.ids_with("<B>W<SUB>f</SUB></B>")
    assert len(copies) == 4
    assert len({parsed.node_cluster[c] for c in copies}) == 4
    n_params = 10
    # 10 parameters: 8 gate ones in 4 steps, Wy and by in the head
    assert len(parsed.nodes) == len(ParsedDot(draw(tape).source).nodes) + 8 * 3
    assert n_params == len([k for k in tape.leaves if not re.match(r"^[hcx]\d+$", tape.names[k])])


def test_time_step_clusters_come_in_time_order_and_nest_in_the_cell_scope():
    tape, _, _ = lstm_tape(12, grads=False)
    parsed = ParsedDot(draw(tape).source)
    steps = [parsed.cluster_labels[c] for c in parsed.clusters if parsed.cluster_labels[c].startswith("step")]
    assert steps == [f"step {t}" for t in range(1, 13)]  # 10, 11, 12 after 9: time order, not text order
    lstm = next(c for c in parsed.clusters if parsed.cluster_labels[c] == "LSTM")
    assert all(parsed.cluster_parent[c] == lstm for c in parsed.clusters if parsed.cluster_labels[c].startswith("step"))


def test_inputs_and_parameters_are_drawn_distinctly(lstm4):
    parsed = ParsedDot(draw(lstm4[0]).source)
    wf, x2, h2 = (node_named(parsed, n) for n in ("W<SUB>f</SUB>", "x⟨2⟩", "h⟨2⟩"))
    styles = [re.search(r'shape="(\w+)"', parsed.nodes[n]).group(1) + parsed.fill(n) for n in (wf, x2, h2)]
    assert len(set(styles)) == 3


def test_constants_show_inside_their_op():
    x = tt.Tensor(np.array([0.5, 2.0]), name="x")
    with tt.Tape() as tape:
        tape.watch(x)
        y = 1 - x
        z = (y * 3.0).sum()
    parsed = ParsedDot(draw(tape).source)
    labels = [re.search(r'label="([^"]*)"', parsed.nodes[f"op{i}"]).group(1) for i in range(3)]
    assert labels[0] == "1 − ·" and labels[1] == "· ⊙ 3"
    assert len(parsed.nodes) == 3 + 4  # three ops; values x, y, y*3, z (constants are not nodes)


# -- cell level -----------------------------------------------------------------------
def test_cell_level_collapses_each_step_into_one_node(lstm4):
    tape = lstm4[0]
    T = 4
    parsed = ParsedDot(draw(tape, level="cell").source)
    cells = parsed.ids_with("t = ")
    assert len(cells) == T
    for t in range(1, T + 1):
        (cell,) = [c for c in cells if f"t = {t}>" in parsed.nodes[c]]
        inputs = {a for a, b, _ in parsed.edges if b == cell}
        outputs = {b for a, b, _ in parsed.edges if a == cell}
        expect_in = {node_named(parsed, f"{s}⟨{t - 1}⟩") for s in "hc"} | {node_named(parsed, f"x⟨{t}⟩")}
        expect_out = {node_named(parsed, f"{s}⟨{t}⟩") for s in "hc"}
        assert inputs == expect_in
        assert outputs == expect_out
    # values: h0, c0, x1..xT, h1..hT, c1..cT, ŷ, L; boxes: T cells, output layer, loss
    assert len(parsed.nodes) == (2 + T + 2 * T + 2) + (T + 2)
    assert len(parsed.edges) == 3 * T + 2 * T + 4
    assert parsed.clusters == []
    # the parameters are listed once in the caption, not drawn
    assert parsed.ids_with("W<SUB>f</SUB>") == []
    assert "Shared by every step: W<SUB>f</SUB>, b<SUB>f</SUB>" in draw(tape, level="cell").source


def test_cell_level_params_option_draws_each_parameter_once(lstm4):
    parsed = ParsedDot(draw(lstm4[0], level="cell", params=True).source)
    wf = node_named(parsed, "W<SUB>f</SUB>")
    assert len([b for a, b, _ in parsed.edges if a == wf]) == 4


def test_cell_level_of_the_cells_package_gives_T_cells():
    import cells
    from cells.record import record

    for kind in ("rnn", "lstm", "gru", "gru_keras"):
        params = cells.get(kind).init_params(1, 3, 1, seed=1)
        X = np.random.default_rng(1).normal(size=(1, 2, 5))
        tape, loss, tensors = record(kind, params, X, np.zeros((1, 2)))
        parsed = ParsedDot(draw(tape, level="cell").source)
        assert len(parsed.ids_with("t = ")) == 5, kind
        for t in range(1, 6):
            assert len(parsed.ids_with(f"<B>h⟨{t}⟩</B>")) == 1, (kind, t)


# -- highlight ------------------------------------------------------------------------
def test_highlight_marks_the_node_and_its_path_to_the_loss_only(lstm4):
    tape = lstm4[0]
    parsed = ParsedDot(draw(tape, highlight=["h2"]).source)
    on = [node_named(parsed, n) for n in ("h⟨2⟩", "h⟨3⟩", "c⟨3⟩", "h⟨4⟩", "ŷ", "L")]
    off = [node_named(parsed, n) for n in ("h⟨1⟩", "c⟨2⟩", "x⟨3⟩", "W<SUB>f</SUB>")]
    assert all(parsed.pen(n) == HIGHLIGHT for n in on)
    assert all(parsed.pen(n) != HIGHLIGHT for n in off)
    red_edges = [(a, b) for a, b, attrs in parsed.edges if HIGHLIGHT in attrs]
    assert red_edges and all(HIGHLIGHT in parsed.nodes[b] for a, b in red_edges)
    assert "path to the loss" in draw(tape, highlight=["h2"]).source


def test_highlight_accepts_tensors_keys_and_names(lstm4):
    tape, loss, params = lstm4
    by_name = draw(tape, highlight="Wy").source
    by_tensor = draw(tape, highlight=params["Wy"]).source
    by_key = draw(tape, highlight=[params["Wy"].key]).source
    assert by_name == by_tensor == by_key
    with pytest.raises(ValueError, match="no value named 'nope'"):
        draw(tape, highlight="nope")


def test_a_check_report_is_drawn_with_its_disagreeing_records_highlighted(lstm4):
    tape = lstm4[0]
    index = next(r.index for r in tape.records if tape.names.get(r.output) == "Γf3")
    report = SimpleNamespace(tape=tape, disagreeing_records=[index])
    parsed = ParsedDot(draw(report).source)
    assert parsed.pen(f"op{index}") == HIGHLIGHT
    assert parsed.pen(node_named(parsed, "Γ<SUB>f</SUB>⟨3⟩")) == HIGHLIGHT
    assert parsed.pen(node_named(parsed, "L")) == HIGHLIGHT
    assert parsed.pen(node_named(parsed, "h⟨2⟩")) != HIGHLIGHT
    cell = ParsedDot(draw(report, level="cell").source)
    highlighted = {re.search(r"t = (\d+)", cell.nodes[n]).group(1): cell.nodes[n]
                   for n in cell.ids_with("t = ") if cell.pen(n) == HIGHLIGHT}
    assert sorted(highlighted) == ["3", "4"]  # where it disagrees, and the path on to the loss
    assert "penwidth=5.0" in highlighted["3"] and "penwidth=5.0" not in highlighted["4"]
    with pytest.raises(ValueError, match="not record indices"):
        draw(SimpleNamespace(tape=tape, disagreeing_records=[10_000]))


# -- gradients ------------------------------------------------------------------------
def test_gradient_colours_follow_the_log_norm(lstm4):
    tape = lstm4[0]
    parsed = ParsedDot(draw(tape, grads=True).source)
    norms = {}
    for t in range(1, 5):
        key = next(k for k, n in tape.names.items() if n == f"h{t}")
        norms[node_named(parsed, f"h⟨{t}⟩")] = np.linalg.norm(tape.value_grads[key])
    by_norm = sorted(norms, key=norms.get)
    lum = [luminance(parsed.fill(n)) for n in by_norm]
    assert lum == sorted(lum, reverse=True)  # bigger gradient, darker fill
    all_norms = {k: np.linalg.norm(g) for k, g in tape.value_grads.items() if np.linalg.norm(g) > 0}
    largest, smallest = max(all_norms, key=all_norms.get), min(all_norms, key=all_norms.get)
    assert parsed.fill(_value_id(parsed, tape, largest)) == PALETTE[-1]
    assert parsed.fill(_value_id(parsed, tape, smallest)) == PALETTE[0]
    assert "‖∂L/∂·‖ (log scale)" in draw(tape, grads=True).source
    assert "‖g‖ 1<" in parsed.nodes[node_named(parsed, "L")]  # ∂L/∂L = 1


def test_a_vanishing_gradient_fades_back_through_time():
    from visuals.problems import small_problem

    tape, _, _ = small_problem("rnn", 8, n_h=4, m=2, scale=0.5)
    # cells.record names states h<t> (older versions: ht); either way, t = 1..8
    h_keys = {int(m.group(1)): k for k, n in tape.names.items() if (m := re.fullmatch(r"h<?(\d+)>?", n))}
    norms = [np.linalg.norm(tape.value_grads[h_keys[t]]) for t in range(1, 9)]
    assert all(a < b for a, b in zip(norms, norms[1:]))  # it does vanish (checked from the tape itself)
    parsed = ParsedDot(draw(tape, level="cell", grads=True).source)
    lum = [luminance(parsed.fill(node_named(parsed, f"h⟨{t}⟩"))) for t in range(1, 9)]
    assert all(a > b for a, b in zip(lum, lum[1:]))  # paler towards t = 1


def test_zero_gradients_are_grey_and_backward_edges_are_dashed(lstm4):
    tape = lstm4[0]
    parsed = ParsedDot(draw(tape, grads=True, backward=True).source)
    gf1 = node_named(parsed, "Γ<SUB>f</SUB>⟨1⟩")  # c⟨0⟩ = 0, so ∂L/∂Γf⟨1⟩ = 0 exactly
    assert parsed.fill(gf1) == ZERO_COLOR
    forward = [e for e in parsed.edges if "dashed" not in e[2]]
    backward = [e for e in parsed.edges if "dashed" in e[2]]
    assert {(b, a) for a, b, _ in backward} <= {(a, b) for a, b, _ in forward}
    assert len(backward) == sum(1 for r in tape.records for k in r.inputs if k is not None)


def test_grads_without_a_backward_pass_is_a_clear_error():
    tape, _, _ = lstm_tape(2, grads=False)
    with pytest.raises(ValueError, match="retain_all=True"):
        draw(tape, grads=True)


# -- notation, language, escaping, bad input --------------------------------------------
def test_labels_use_the_labs_notation(lstm4):
    source = draw(lstm4[0]).source
    for fragment in ("Γ<SUB>f</SUB>⟨2⟩", "Γ<SUB>u</SUB>⟨2⟩", "Γ<SUB>o</SUB>⟨2⟩", "c̃⟨2⟩", "h⟨2⟩", "x⟨2⟩", "ŷ",
                     "W<SUB>f</SUB>"):
        assert fragment in source


def test_spanish_captions():
    tape, _, _ = lstm_tape(2)
    parsed = ParsedDot(draw(tape, grads=True, lang="es").source)
    assert {"paso 1", "paso 2", "capa de salida"} <= set(parsed.cluster_labels.values())
    cell = draw(tape, level="cell", lang="es").source
    assert "Compartidos por todos los pasos" in cell and "pérdida" in cell
    with pytest.raises(ValueError, match="lang='fr'"):
        draw(tape, lang="fr")


def test_awkward_names_are_escaped():
    pygraphviz = pytest.importorskip("pygraphviz", reason="pygraphviz parses the DOT independently")
    x = tt.Tensor(np.ones(2))
    with tt.Tape() as tape:
        tape.watch(x, name='a"b<c>&d\\')
        with tt.scope('odd "scope"\\'):
            y = tt.tanh(x)
            y.name = "<b>"
        tt.sum(y)
    source = draw(tape).source
    graph = pygraphviz.AGraph(string=source)
    assert graph.number_of_nodes() == len(ParsedDot(source).nodes) == 5  # x, tanh, y, Σ, its output
    assert "&lt;b&gt;" in source and "&quot;" in source


def test_bad_arguments_are_named():
    tape, _, _ = lstm_tape(1, grads=False)
    with pytest.raises(ValueError, match="level='ops'"):
        draw(tape, level="ops")
    with pytest.raises(ValueError, match="rankdir"):
        draw(tape, rankdir="up")
    with pytest.raises(TypeError, match="cannot draw a ndarray"):
        draw(np.zeros(3))
    with pytest.raises(ValueError, match="tape is empty"):
        draw(tt.Tape())


def test_a_10000_step_chain_and_deep_scopes_build_without_recursion():
    x = tt.Tensor(np.array(0.3))
    with tt.Tape() as tape:
        tape.watch(x)
        y = x
        for _ in range(10_000):
            y = tt.tanh(y)
    parsed_chain = draw(tape)
    assert parsed_chain.n_nodes == 10_000 + 10_001

    depth = 1_500  # deeper than Python's default recursion limit
    with tt.Tape() as deep:
        deep.watch(x)
        scopes = [tt.scope(f"s{i}") for i in range(depth)]
        for s in scopes:
            s.__enter__()
        tt.tanh(x)
        for s in reversed(scopes):
            s.__exit__(None, None, None)
    parsed = ParsedDot(draw(deep).source)
    assert len(parsed.clusters) == depth


def test_a_tensor_alone_gets_told_to_pass_its_tape(lstm4):
    tape, loss, _ = lstm4
    with pytest.raises(TypeError, match=r"draw\(tape, target=loss\)"):
        draw(loss)
    parsed = ParsedDot(draw(tape, highlight="h3", target=loss).source)
    assert parsed.pen(node_named(parsed, "L")) == HIGHLIGHT


def test_a_real_learner_check_report_draws_its_disagreement():
    from tinytape import check

    def rnn_cell_forward(xt, a_prev, p):
        a = np.tanh(p["Wa"] @ a_prev + p["Wx"] @ xt + p["ba"])
        return a, (a, a_prev, xt, p)

    def rnn_cell_backward(da, cache):
        a, a_prev, xt, p = cache
        dz = da * (1 - a)  # the slip: tanh' is 1 - a**2
        return {"dxt": p["Wx"].T @ dz, "da_prev": p["Wa"].T @ dz, "dWa": dz @ a_prev.T, "dWx": dz @ xt.T,
                "dba": dz.sum(axis=1, keepdims=True)}

    rng = np.random.default_rng(0)
    p = {"Wa": rng.normal(size=(3, 3)), "Wx": rng.normal(size=(3, 2)), "ba": rng.normal(size=(3, 1))}
    report = check.backward(rnn_cell_forward, rnn_cell_backward, rng.normal(size=(2, 4)), rng.normal(size=(3, 4)), p)
    assert report.disagreeing_records  # the checker found it (else this test says nothing)
    source = draw(report).source
    parsed = ParsedDot(source)
    for index in report.disagreeing_records:
        assert parsed.pen(f"op{index}") == HIGHLIGHT
    untouched = [r.index for r in report.tape.records if r.index not in report.disagreeing_records
                 and r.output not in report.target_keys and r.op.name == "matmul"]
    assert untouched and all(parsed.pen(f"op{i}") != HIGHLIGHT for i in untouched)
    assert "where your gradient disagrees" in source


def test_value_summaries_and_layout_direction(lstm4):
    tape = lstm4[0]
    parsed = ParsedDot(draw(tape, values=True, rankdir="TB").source)
    key = next(k for k, n in tape.names.items() if n == "h2")
    value = next(r.value for r in tape.records if r.output == key)
    expected = f"μ {value.mean():.2g} [{value.min():.2g}, {value.max():.2g}]"
    assert expected in parsed.nodes[node_named(parsed, "h⟨2⟩")]
    assert not [n for n in parsed.nodes if 'shape="point"' in parsed.nodes[n]]  # values=True labels every value
    assert 'rankdir="TB"' in draw(tape, rankdir="TB").source


@pytest.mark.parametrize("name, parts", [
    ("x<3>", ("x", "", "3")), ("x3", ("x", "", "3")), ("h<0>", ("h", "", "0")), ("h12", ("h", "", "12")),
    ("Γf3", ("Γ", "f", "3")), ("Γu<2>", ("Γ", "u", "2")), ("c̃<4>", ("c̃", "", "4")), ("h̃1", ("h̃", "", "1")),
    ("gamma_o", ("Γ", "o", "")), ("Wf", ("W", "f", "")), ("by", ("b", "y", "")), ("pf", ("p", "f", "")),
    ("y_hat", ("ŷ", "", "")), ("loss", ("L", "", "")), ("kernel", ("kernel", "", "")), ("W2", ("W2", "", "")),
])
def test_tape_names_read_in_the_labs_notation(name, parts):
    from visuals.notation import split_name

    assert split_name(name) == parts


def test_deep_networks_draw_one_row_per_layer_and_direction():
    deep = pytest.importorskip("cells.deep", reason="stacked/bidirectional cells not installed")
    X = np.random.default_rng(0).normal(size=(1, 2, 3))
    Y = np.zeros((1, 2))
    params = deep.stacked_init("lstm", n_x=1, n_h=3, n_y=1, depth=2)
    tape, _, _ = deep.stacked_record("lstm", params, X, Y)
    parsed = ParsedDot(draw(tape, level="cell").source)
    for layer in (1, 2):
        cells = [n for n in parsed.ids_with(f"LSTM<SUP>[{layer}]</SUP>")]
        assert len(cells) == 3
        assert len(parsed.ids_with(f"<B>h<SUP>[{layer}]</SUP>⟨2⟩</B>")) == 1
    columns = re.findall(r"\{ rank=same; ([^}]*)\}", draw(tape, level="cell").source)
    assert len(columns) == 3  # one column per time step, holding both layers' cells

    bi = deep.bidirectional_init("rnn", n_x=1, n_h=3, n_y=1)
    tape, _, _ = deep.bidirectional_record("rnn", bi, X, Y)
    parsed = ParsedDot(draw(tape, level="cell").source)
    back_cells = {int(re.search(r"t = (\d+)", parsed.nodes[n]).group(1)): n for n in parsed.ids_with("RNN<SUP>←</SUP>")}
    assert sorted(back_cells) == [1, 2, 3]
    for t in (2, 3):  # h←⟨t⟩ is made by the backward cell t and read by the backward cell t−1
        h = node_named(parsed, f"h<SUP>←</SUP>⟨{t}⟩")
        flows = {(b, a) if "dir=\"back\"" in attrs else (a, b) for a, b, attrs in parsed.edges}
        assert (back_cells[t], h) in flows and (h, back_cells[t - 1]) in flows
