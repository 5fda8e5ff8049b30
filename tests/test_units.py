"""Physical units <-> the dimensionless model (jaxtls.units)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtls
from jaxtls import units

# CODATA 2018 exact SI values, typed here independently of the module.
H = 6.62607015e-34
K_B = 1.380649e-23
E = 1.602176634e-19
HBAR_CODATA = 1.054571817e-34  # the quoted (rounded) value of h / 2 pi


def test_constants_are_the_exact_si_values():
    assert units.H == H and units.K_B == K_B and units.E_CHARGE == E
    assert units.HBAR == H / (2 * math.pi)
    assert units.HBAR == pytest.approx(HBAR_CODATA, rel=1e-9)


def test_geometry_temperature_is_the_papers_10_mK():
    # paper, sec. IV C 2: d = 1 um, v = 1e3 m/s give "about 10 mK"
    t = float(jaxtls.geometry_temperature(1.0, 1e3))
    assert t == pytest.approx(HBAR_CODATA * 1e3 / (K_B * 1e-6), rel=1e-9)
    formula = (H / (2 * math.pi)) * 1e3 / (K_B * (1.0 * 1e-6))  # hbar v / (k_B d)
    assert t == pytest.approx(formula, rel=1e-15)
    if jax.default_backend() == "cpu":  # same float64 operations in the same order
        assert t == formula
    assert t == pytest.approx(7.6382e-3, rel=1e-4)
    assert 3e-3 < t < 30e-3  # "about 10 mK": the order of magnitude
    # it scales like v / d
    assert float(units.geometry_temperature(2.0, 4e3)) == pytest.approx(2 * t, rel=1e-15)


def test_dbar_is_one_at_the_geometry_temperature():
    d_um, v = 1.0, 1e3
    t = units.geometry_temperature(d_um, v)
    f_ghz = t * K_B / H / 1e9  # the splitting whose Delta/k_B equals that temperature
    assert float(units.dbar(f_ghz, d_um, v)) == pytest.approx(1.0, rel=1e-14)
    assert float(units.temperature_scale(f_ghz)) == pytest.approx(float(t), rel=1e-14)
    # dbar = omega d / v with omega = 2 pi f
    assert float(units.dbar(1.0, 1.0, 1e3)) == pytest.approx(2 * math.pi, rel=1e-15)
    # feeds kappa: at dbar = 2 pi, the D = 1 bath is fully collective (K/J = 1)
    assert float(jaxtls.kappa(units.dbar(1.0, 1.0, 1e3), 1)) == pytest.approx(1.0, abs=1e-14)


def test_temperature_scale():
    assert float(units.temperature_scale(5.0)) == pytest.approx(H * 5e9 / K_B, rel=1e-15)
    assert float(units.temperature_scale(5.0)) == pytest.approx(0.2399621, rel=1e-6)


@pytest.mark.parametrize(
    "value, unit, expected",
    [
        (20.0, "mK", K_B * 20e-3 / (H * 5e9)),
        (0.02, "K", K_B * 20e-3 / (H * 5e9)),
        (1.0, "MHz", 1e6 / 5e9),  # cyclic: E = h nu
        (5.0, "GHz", 1.0),
        (1e6, "s^-1", 1e6 / (2 * math.pi * 5e9)),  # angular: E = hbar r
        (1e6, "1/s", 1e6 / (2 * math.pi * 5e9)),
        (1.0, "ueV", 1e-6 * E / (H * 5e9)),
        (1.0, "µeV", 1e-6 * E / (H * 5e9)),
    ],
)
def test_to_and_from_dimensionless(value, unit, expected):
    x = float(units.to_dimensionless(value, unit, delta_ghz=5.0))
    assert x == pytest.approx(expected, rel=1e-14)
    assert float(units.from_dimensionless(x, unit, 5.0)) == pytest.approx(value, rel=1e-14)


def test_cyclic_hz_and_angular_rate_differ_by_two_pi():
    a = units.to_dimensionless(1.0, "MHz", 5.0)
    b = units.to_dimensionless(2 * math.pi * 1e6, "s^-1", 5.0)
    assert float(a) == pytest.approx(float(b), rel=1e-15)


def test_delta_ghz_from_energy_and_rate():
    assert float(units.delta_ghz_from(5e9, "Hz")) == 5.0
    assert float(units.delta_ghz_from(H * 5e9 / E * 1e6, "ueV")) == pytest.approx(5.0, rel=1e-14)
    assert float(units.delta_ghz_from(2 * math.pi * 5e9, "s^-1")) == pytest.approx(5.0, rel=1e-15)
    with pytest.raises(ValueError, match="frequency or energy"):
        units.delta_ghz_from(1.0, "mK")


def test_lengths_have_no_dimensionless_value():
    with pytest.raises(ValueError, match="dbar"):
        units.to_dimensionless(1.0, "um", 5.0)
    with pytest.raises(ValueError, match="unknown unit"):
        units.to_dimensionless(1.0, "furlong", 5.0)


def test_numeric_functions_are_traceable_and_batched():
    f = jax.jit(lambda t, d: units.to_dimensionless(t, "mK", d))
    out = f(jnp.array([10.0, 20.0]), jnp.array([[1.0], [5.0]]))
    assert out.shape == (2, 2) and out.dtype == jnp.float64
    np.testing.assert_allclose(
        out, np.array([10.0, 20.0]) * 1e-3 * K_B / (H * 1e9 * np.array([[1.0], [5.0]])), rtol=1e-14
    )
    g = jax.grad(lambda f: units.dbar(f, 1.0, 1e3))(1.0)
    assert float(g) == pytest.approx(2 * math.pi, rel=1e-14)
    gt = jax.grad(lambda d: units.geometry_temperature(d, 1e3))(1.0)
    assert float(gt) == pytest.approx(-float(units.geometry_temperature(1.0, 1e3)), rel=1e-14)
    assert jax.jit(units.temperature_scale)(jnp.ones(3)).shape == (3,)


@pytest.mark.parametrize(
    "text, value, dimension",
    [
        ("5GHz", 5e9, "frequency"),
        ("5 GHz", 5e9, "frequency"),
        ("20mK", 0.02, "temperature"),
        ("0.02K", 0.02, "temperature"),
        ("1um", 1e-6, "length"),
        ("1 µm", 1e-6, "length"),
        ("1e3m/s", 1e3, "velocity"),
        ("2MHz", 2e6, "frequency"),
        ("-2MHz", -2e6, "frequency"),
        ("3e5 s^-1", 3e5, "rate"),
        ("1.5e-3eV", 1.5e-3 * E, "energy"),
        ("0.25", 0.25, None),
        ("-1e-3", -1e-3, None),
    ],
)
def test_parse_quantity(text, value, dimension):
    q = units.parse_quantity(text, "x")
    assert q.value == pytest.approx(value, rel=1e-15)
    assert q.dimension == dimension and q.text == text


@pytest.mark.parametrize(
    "text, kind, match",
    [
        ("5 furlongs", None, "unknown unit 'furlongs'"),
        ("20mm", "temperature", "is a length, not a temperature: use K, mK"),
        ("5GHz", "temperature", "not a temperature"),
        ("20mK", "rate", "not a rate"),
        ("1m/s", "splitting", "not a frequency or an energy: use Hz"),
        ("infmK", "temperature", "must be finite"),
        ("nan GHz", "rate", "must be finite"),
        ("-20mK", "temperature", "must be >= 0"),
        ("GHz", "rate", "not a number with a unit"),
        ("abc", "temperature", "not a number with a unit: use K, mK"),
    ],
)
def test_parse_quantity_errors_name_parameter_and_units(text, kind, match):
    with pytest.raises(ValueError, match=match) as err:
        units.parse_quantity(text, "T_bath", kind=kind)
    assert "T_bath" in str(err.value) and "\n" not in str(err.value)


def test_bare_numbers_pass_unchecked():
    # the model validates them (its messages stay those of plain numbers)
    assert math.isnan(units.parse_quantity("nan", "T", kind="temperature").value)
    assert units.parse_quantity("-1", "T", kind="temperature").value == -1.0


def test_splitting_and_model_value():
    assert units.splitting("5GHz") == (1.0, 5.0)
    assert units.splitting("0.5") == (0.5, None)
    with pytest.raises(ValueError, match="must be > 0"):
        units.splitting("0GHz")
    with pytest.raises(ValueError, match="not a frequency or an energy"):
        units.splitting("200mK")
    assert units.model_value("200mK", "T", "temperature", 5.0) == pytest.approx(
        0.2 * K_B / (H * 5e9), rel=1e-14
    )
    assert units.model_value("0.3", "T", "temperature", 5.0) == 0.3  # bare: units of Delta
    with pytest.raises(ValueError, match="--delta with a frequency or energy unit"):
        units.model_value("200mK", "T", "temperature", None)


def test_join_unit_tokens():
    assert units.join_unit_tokens(["200", "mK", "10mK", "-1", "GHz", "0"]) == [
        "200 mK",
        "10mK",
        "-1 GHz",
        "0",
    ]
    assert units.join_unit_tokens(["10mK", "mK"]) == ["10mK", "mK"]  # no number to glue onto


def test_public_names():
    for name in ("to_dimensionless", "from_dimensionless", "temperature_scale", "dbar"):
        assert getattr(jaxtls, name) is getattr(units, name) and name in jaxtls.__all__
    assert "geometry_temperature" in jaxtls.__all__ and "units" in jaxtls.__all__
