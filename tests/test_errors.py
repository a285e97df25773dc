"""Every error names the op, the shapes, the fix, and the user's line."""
import numpy as np
import pytest

import tinytape as tt


def test_matmul_shape_mismatch_names_op_shapes_fix_and_line():
    W = tt.Tensor(np.ones((4, 3)))
    x = np.ones((4, 2))
    with pytest.raises(tt.ShapeError) as err:
        W @ x
    msg = str(err.value)
    assert "tinytape.matmul" in msg and "(4, 3)" in msg and "(4, 2)" in msg
    assert "inner dimensions" in msg and "test_errors.py:" in msg


def test_broadcast_mismatch_explains_broadcasting():
    with pytest.raises(tt.ShapeError, match=r"tinytape.add.*\(3, 2\).*\(3,\).*broadcast"):
        tt.Tensor(np.ones((3, 2))) + np.ones(3)


def test_concatenate_mismatch_mentions_the_lab_layout():
    with pytest.raises(tt.ShapeError, match=r"(?s)concatenate.*\[h; x\]"):
        tt.concatenate([tt.Tensor(np.ones((3, 2))), np.ones((2, 5))], axis=0)


def test_shape_error_is_a_value_error():
    assert issubclass(tt.ShapeError, ValueError)


def test_non_scalar_target_without_output_gradient():
    x = tt.Tensor([1.0, 2.0])
    with tt.Tape() as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(ValueError, match=r"shape \(2,\), not a scalar.*output_gradient"):
        tape.gradient(y, x)


def test_output_gradient_shape_mismatch():
    x = tt.Tensor([1.0, 2.0])
    with tt.Tape() as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(ValueError, match="output_gradient has shape"):
        tape.gradient(y, x, output_gradient=np.ones(3))


def test_gradient_inside_the_block_of_a_non_persistent_tape():
    x = tt.Tensor(1.0)
    with tt.Tape() as tape:
        tape.watch(x)
        y = x * 2.0
        with pytest.raises(tt.TapeError, match="after the block"):
            tape.gradient(y, x)


def test_bad_sources_and_targets():
    x = tt.Tensor(1.0)
    with tt.Tape(persistent=True) as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(TypeError, match="target must be a tinytape.Tensor"):
        tape.gradient(2.0, x)
    with pytest.raises(TypeError, match="every source must be a tinytape.Tensor"):
        tape.gradient(y, [np.ones(1)])
    with pytest.raises(TypeError, match="wrap arrays first"):
        tape.watch(np.ones(2))


def test_check_finite_stops_at_the_first_nan_and_names_it():
    x = tt.Tensor([1.0, 0.0])
    with tt.Tape(check_finite=True) as tape:
        tape.watch(x)
        with tt.scope("rnn/t=2"):
            with np.errstate(divide="ignore"):
                with pytest.raises(FloatingPointError) as err:
                    tt.log(x)
    msg = str(err.value)
    assert "tinytape.log produced NaN or Inf" in msg and "rnn/t=2" in msg and "test_errors.py:" in msg


def test_unsupported_dtype():
    with pytest.raises(TypeError, match="float64"):
        tt.Tensor(np.ones(2), dtype=np.int32)
    with pytest.raises(TypeError, match="cannot hold"):
        tt.Tensor(np.array(["a"]))
