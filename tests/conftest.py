"""Shared test settings: hypothesis profiles chosen by TINYTAPE_HYPOTHESIS (dev | ci | thorough)."""
import os

# Before NumPy loads: the tests use small matrices, where BLAS threads only contend.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("TINYTAPE_HYPOTHESIS", "ci" if os.environ.get("CI") else "dev"))

# The suite trains many small models: keep freed memory instead of re-faulting it each
# step (what the `tinytape` command does; see tinytape/memory.py).
import tinytape  # noqa: E402

tinytape.keep_freed_memory()

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """../shared/data, or a skip saying why (a user's clone does not have it)."""
    if not (SHARED_DATA / "colombia_inflation_monthly.csv").exists():
        pytest.skip(f"the thesis's data set is not at {SHARED_DATA} (it lives in the project's "
                    "shared folder, beside the repository, and is never copied in)")
    return SHARED_DATA
