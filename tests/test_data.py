"""cells.data: windows, lab shapes, scaling, the chronological split and the loaders."""
from pathlib import Path

import numpy as np
import pytest

from cells import data
from cells.data import (DataFormatError, StandardScaler, chronological_split, create_sequences,
                        load_banrep_csv, load_banrep_xlsx, load_default, load_series,
                        prepare_windows, to_lab_shapes)

SHARED_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "colombia_inflation_monthly.csv"


# ---------------------------------------------------------------- windows and shapes

def test_thesis_window_check_20_values_5_in_2_out():
    # The lab's own autograder (thesis Figure 5-5): np.random.seed(42); 20 values.
    np.random.seed(42)
    values = np.random.rand(20)
    assert values[0] == pytest.approx(0.37454012)   # the numbers printed in Figure 5-5
    X, Y = create_sequences(values, 5, 2)
    assert X.shape == (14, 5) and Y.shape == (14, 2)
    np.testing.assert_allclose(X[0], [0.37454012, 0.95071431, 0.73199394, 0.59865848, 0.15601864], atol=1e-8)
    np.testing.assert_allclose(Y[0], [0.15599452, 0.05808361], atol=1e-8)
    # every window, element by element, against a plain loop
    for i in range(14):
        assert list(X[i]) == list(values[i:i + 5])
        assert list(Y[i]) == list(values[i + 5:i + 7])


def test_lab_shapes_put_time_last_and_samples_in_the_middle():
    X, Y = create_sequences(np.arange(10.0), 3, 2)
    Xl, Yl = to_lab_shapes(X, Y)
    assert Xl.shape == (1, 6, 3) and Yl.shape == (2, 6)
    # sample i, time t is series[i + t]; output j of sample i is series[i + 3 + j]
    for i in range(6):
        assert list(Xl[0, i, :]) == [i, i + 1, i + 2]
        assert list(Yl[:, i]) == [i + 3, i + 4]
    assert data.reshape_data is to_lab_shapes


def test_windows_reject_too_short_series_and_bad_sizes():
    with pytest.raises(ValueError, match="no window"):
        create_sequences(np.arange(4.0), 3, 2)
    with pytest.raises(ValueError, match="n_in"):
        create_sequences(np.arange(4.0), 0, 1)
    with pytest.raises(ValueError, match="1-D"):
        create_sequences(np.zeros((4, 2)), 1, 1)


# ---------------------------------------------------------------- scaler and split

def test_standard_scaler_round_trip_and_population_std():
    values = np.array([1.0, 2.0, 4.0, 9.0])
    scaler = StandardScaler().fit(values)
    z = scaler.transform(values)
    assert abs(z.mean()) < 1e-15 and z.std() == pytest.approx(1.0)
    assert scaler.std_ == pytest.approx(np.sqrt(np.mean((values - 4.0) ** 2)))
    np.testing.assert_allclose(scaler.inverse_transform(z), values, rtol=1e-15)
    with pytest.raises(RuntimeError, match="fit"):
        StandardScaler().transform(values)
    with pytest.raises(ValueError, match="constant"):
        StandardScaler().fit([3.0, 3.0])


def test_chronological_split_keeps_order_and_uses_int_of_fraction():
    X, Y = to_lab_shapes(*create_sequences(np.arange(20.0), 3, 1))   # 17 samples
    X_tr, Y_tr, X_te, Y_te = chronological_split(X, Y, 0.8)
    assert X_tr.shape[1] == 13 and X_te.shape[1] == 4                   # int(13.6) = 13
    assert Y_tr[0, -1] < Y_te[0, 0]                                      # every test target later
    np.testing.assert_array_equal(np.concatenate([Y_tr, Y_te], axis=1), Y)
    with pytest.raises(ValueError, match="train_fraction"):
        chronological_split(X, Y, 1.0)


def test_prepare_windows_fits_scaler_on_training_values_only():
    series = data.Series(np.datetime64("2000-01", "M") + np.arange(40),
                         np.concatenate([np.zeros(30) + np.arange(30) % 3, np.full(10, 100.0)]))
    train = prepare_windows(series, n_in=4, n_out=1, train_fraction=0.75, scale_fit="train")
    # 36 windows, 27 for training; they touch values[0:31]. The test spike (100) must not count.
    np.testing.assert_allclose(train.scaler.mean_, series.values[:31].mean())
    leaky = prepare_windows(series, n_in=4, n_out=1, train_fraction=0.75, scale_fit="all")
    np.testing.assert_allclose(leaky.scaler.mean_, series.values.mean())
    # targets line up with their dates: first test sample's target is values[4 + 27]
    assert train.target_dates_test[0] == series.dates[31]
    np.testing.assert_allclose(train.scaler.inverse_transform(train.Y_test[0, 0]), series.values[31])


# ---------------------------------------------------------------- loaders

def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_loader_reads_a_good_file(tmp_path):
    path = _write(tmp_path / "ok.csv", "date,inflation_pct\n2020-01-31,3.62\n2020-02-29,3.72\n\n2020-03-31,\"3,86\"\n")
    series = load_series(path)
    assert list(series.values) == [3.62, 3.72, 3.86]
    assert str(series.dates[0]) == "2020-01" and series.periods_per_year == 12


@pytest.mark.parametrize("body, line, problem", [
    ("date,inflation_pct\n2020-01-31,3.6\n2020-02-31,abc\n", 3, "cannot read the number"),
    ("date,inflation_pct\n2020-01-31,3.6\n31/02/2020,3.7\n", 3, "cannot read the date"),
    ("date,inflation_pct\n2020-01-31,3.6\n2020-03-31,3.7\n", 3, "missing"),
    ("date,inflation_pct\n2020-02-29,3.6\n2020-01-31,3.7\n", 3, "increasing"),
    ("date,inflation_pct\n2020-01-31,3.6\n2020-01-31,3.7\n", 3, "repeats line 2"),
    ("fecha;valor\n2020-01-31;3.6\n", 1, "header"),
    ("date,inflation_pct\n2020-01-31\n", 2, "expected 'date,value'"),
])
def test_csv_loader_names_line_and_problem(tmp_path, body, line, problem):
    path = _write(tmp_path / "bad.csv", body)
    with pytest.raises(DataFormatError, match=problem) as info:
        load_banrep_csv(path)
    assert f"line {line}" in str(info.value) and "bad.csv" in str(info.value)


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(FileNotFoundError, match="suameca"):
        load_series(tmp_path / "nope.csv")
    with pytest.raises(DataFormatError, match="neither"):
        load_series(_write(tmp_path / "x.txt", "a"))


def _xlsx(path, rows):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl (tinytape[data]) is needed for .xlsx tests")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def test_xlsx_loader_reads_the_banks_layout(tmp_path):
    import datetime as dt
    path = _xlsx(tmp_path / "banrep.xlsx", [
        ("Inflación total 1/",),
        ("Fecha (dd/mm/aaaa)", "Inflación anual (%)"),
        ("31/01/2020", "3,62"),
        ("29/02/2020", "3,72"),
        (dt.datetime(2020, 3, 31), 3.86),          # a real Excel date and a number
        (None, None),
        ("Fuente: Banco de la República, DANE.",),
    ])
    series = load_series(path)
    assert list(series.values) == [3.62, 3.72, 3.86]
    assert [str(d) for d in series.dates] == ["2020-01", "2020-02", "2020-03"]


@pytest.mark.parametrize("rows, line, problem", [
    ([("Fecha", "Valor"), ("31/01/2020", "3,62"), ("29/02/2020", "3;72")], 3, "cannot read the number"),
    ([("Fecha", "Valor"), ("31/01/2020", "3,62"), ("29/02/2020", None)], 3, "no inflation value"),
    ([("31/01/2020", "3,62"), ("Fuente: BanRep",), ("29/02/2020", "3,7")], 3, "after the non-data row"),
    ([("31/01/2020", "3,62"), ("31/03/2020", "3,7")], 2, "missing"),
])
def test_xlsx_loader_names_line_and_problem(tmp_path, rows, line, problem):
    path = _xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(DataFormatError, match=problem) as info:
        load_banrep_xlsx(path)
    assert f"line {line}" in str(info.value)


def test_xlsx_without_any_date_is_an_error(tmp_path):
    path = _xlsx(tmp_path / "empty.xlsx", [("Fecha", "Valor"), ("Fuente: BanRep",)])
    with pytest.raises(DataFormatError, match="no rows with a date"):
        load_banrep_xlsx(path)


@pytest.mark.skipif(not SHARED_CSV.exists(), reason=f"the shared Banco de la República CSV is absent ({SHARED_CSV})")
def test_shared_csv_gives_the_thesis_sample_counts():
    series = load_series(SHARED_CSV).since("2000-01").scaled(0.01, "fraction")
    windows = prepare_windows(series, n_in=12, n_out=1, train_fraction=0.8)
    # thesis 5.1: 297 samples, 80 % for training; Table 6-2 starts the test at 10/2020
    assert windows.X_train.shape[1] + windows.X_test.shape[1] == 297
    assert windows.X_train.shape == (1, 237, 12)
    assert str(windows.target_dates_test[0]) == "2020-10"


# ---------------------------------------------------------------- embedded default

def test_embedded_default_is_quarterly_and_plausible():
    series = load_default()
    assert len(series) == 203 and series.periods_per_year == 4
    assert str(series.dates[0]) == "1959-01" and str(series.dates[-1]) == "2009-07"
    assert series.values.max() == pytest.approx(14.62) and series.values.min() == pytest.approx(-8.79)


def test_embedded_default_equals_statsmodels_macrodata():
    sm_data = pytest.importorskip("statsmodels.datasets.macrodata",
                                  reason="statsmodels (tinytape[data]) is needed to check the embedded copy")
    frame = sm_data.load_pandas().data
    np.testing.assert_array_equal(load_default().values, frame["infl"].to_numpy())
