"""Physical units <-> the dimensionless model (hbar = k_B = 1, everything in units of Delta).

The model (``physics.md``) measures energies, temperatures and rates in units of the splitting
Delta. This module converts laboratory numbers to and from those units.

Conventions (one rule, used everywhere here):

- The splitting is given by its **cyclic** frequency ``f`` in GHz: ``Delta = h f = hbar omega``,
  ``omega = 2 pi f``. ``delta_ghz`` is always that ``f`` (so "a 5 GHz qubit" is
  ``delta_ghz = 5``). An energy (eV family) is converted with ``f = E / h``.
- A quantity in **hertz** (Hz, kHz, MHz, GHz, THz) is a cyclic frequency: it stands for the
  energy ``h nu`` (equivalently the angular rate ``2 pi nu`` in s^-1), so its dimensionless
  value is ``nu / f``. This is the usual way of quoting a linewidth, a detuning or a coupling
  "in MHz".
- A quantity in **inverse seconds** (s^-1, 1/s, /s, rad/s) is an angular frequency or a rate of
  events: it stands for the energy ``hbar r``, so its dimensionless value is ``r / (2 pi f)``.
  A golden-rule rate J in s^-1 is the rate at which populations relax (``exp(-J t)``).
  Hence ``1 MHz`` and ``2 pi x 1e6 s^-1`` are the same rate.
- Temperatures (K, mK, uK, nK) become ``k_B T / Delta``; energies (eV, meV, ueV, neV) become
  ``E / Delta``.
- Distances (m, mm, um, nm) and velocities (m/s, km/s) enter only through the reduced distance
  ``dbar = Delta d / (hbar v) = omega d / v`` of the bath geometry (paper, sec. IV C 2).

A bare number (no unit) always means "in units of Delta" (the model's own units).

Constants are the exact SI (CODATA 2018) values; ``HBAR = H / (2 pi)``. The numeric functions
are JAX-traceable (``jnp``, float64) and broadcast over their array arguments; unit names are
static Python strings.

Example:
  >>> from jaxtls import units
  >>> round(float(units.temperature_scale(5.0)), 6)  # Delta / k_B of a 5 GHz splitting, in K
  0.239962
  >>> round(float(units.to_dimensionless(20.0, "mK", delta_ghz=5.0)), 6)  # k_B T / Delta
  0.083346
  >>> round(float(units.geometry_temperature(1.0, 1e3)) * 1e3, 3)  # the paper's "about 10 mK"
  7.638
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array

# -- exact SI constants (CODATA 2018; the 2019 SI redefinition fixes them exactly) ----------
H = 6.62607015e-34  # Planck constant, J s (J/Hz)
HBAR = H / (2 * math.pi)  # reduced Planck constant, J s (1.054571817...e-34)
K_B = 1.380649e-23  # Boltzmann constant, J/K
E_CHARGE = 1.602176634e-19  # elementary charge, C (1 eV = E_CHARGE J)

# -- units: name -> (dimension, factor to the SI unit of that dimension) -------------------
# SI units of the dimensions: frequency Hz (cyclic), rate s^-1 (angular), energy J,
# temperature K, length m, velocity m/s.
SI_UNIT = {
    "frequency": "Hz",
    "rate": "s^-1",
    "energy": "J",
    "temperature": "K",
    "length": "m",
    "velocity": "m/s",
}
_MICRO = ("u", "µ", "μ")  # ASCII u, micro sign, Greek mu
UNITS: dict[str, tuple[str, float]] = {
    "Hz": ("frequency", 1.0),
    "kHz": ("frequency", 1e3),
    "MHz": ("frequency", 1e6),
    "GHz": ("frequency", 1e9),
    "THz": ("frequency", 1e12),
    "s^-1": ("rate", 1.0),
    "s-1": ("rate", 1.0),
    "1/s": ("rate", 1.0),
    "/s": ("rate", 1.0),
    "rad/s": ("rate", 1.0),
    "eV": ("energy", E_CHARGE),
    "meV": ("energy", 1e-3 * E_CHARGE),
    "neV": ("energy", 1e-9 * E_CHARGE),
    "J": ("energy", 1.0),
    "K": ("temperature", 1.0),
    "mK": ("temperature", 1e-3),
    "nK": ("temperature", 1e-9),
    "m": ("length", 1.0),
    "mm": ("length", 1e-3),
    "nm": ("length", 1e-9),
    "m/s": ("velocity", 1.0),
    "km/s": ("velocity", 1e3),
}
for _mu in _MICRO:
    UNITS[_mu + "eV"] = ("energy", 1e-6 * E_CHARGE)
    UNITS[_mu + "K"] = ("temperature", 1e-6)
    UNITS[_mu + "m"] = ("length", 1e-6)

# What each kind of model parameter accepts (dimensions), in the order error messages list them.
KINDS = {
    "splitting": ("frequency", "rate", "energy"),
    "temperature": ("temperature",),
    "rate": ("frequency", "rate", "energy"),
    "length": ("length",),
    "velocity": ("velocity",),
}
_SHOWN = {  # units named in error messages, per dimension
    "frequency": "Hz, kHz, MHz, GHz, THz",
    "rate": "s^-1 (= 1/s, rad/s)",
    "energy": "eV, meV, ueV, neV",
    "temperature": "K, mK, uK, nK",
    "length": "m, mm, um, nm",
    "velocity": "m/s, km/s",
}

_WANTED = {
    "splitting": "a frequency or an energy",
    "temperature": "a temperature",
    "rate": "a rate (frequency or energy)",
    "length": "a length",
    "velocity": "a velocity",
}

_NUMBER = re.compile(
    r"^\s*([+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan))\s*(.*?)\s*$",
    re.IGNORECASE,
)


class Quantity(NamedTuple):
    """A parsed quantity: ``value`` in the SI unit ``SI_UNIT[dimension]`` (Python float).

    ``dimension`` is ``None`` for a bare number (units of Delta), ``unit`` is the unit as typed
    (normalised: ``"µm"`` and ``"μm"`` read ``"um"``), ``text`` the input string.
    """

    value: float
    dimension: str | None
    unit: str | None
    text: str


def accepted_units(kind: str) -> str:
    """The units a ``kind`` of parameter accepts, as a human-readable list.

    Example:
      >>> from jaxtls import units
      >>> units.accepted_units("temperature")
      'K, mK, uK, nK, or a bare number in units of Delta'
    """
    dims = KINDS[kind]
    return "; ".join(_SHOWN[d] for d in dims) + ", or a bare number in units of Delta"


def parse_quantity(text: str, name: str = "value", kind: str | None = None) -> Quantity:
    """Read ``"5GHz"``, ``"5 GHz"``, ``"20mK"``, ``"1e3m/s"``, ``"-2 MHz"`` or a bare ``"0.5"``.

    Args:
      text: a number, optionally followed (with or without a space) by a unit of ``UNITS``.
      name: the parameter's name, used in error messages.
      kind: if given, one of ``KINDS`` (``"splitting"``, ``"temperature"``, ``"rate"``,
        ``"length"``, ``"velocity"``): the unit must have one of its dimensions.

    Returns:
      a :class:`Quantity` with the value in SI units (Hz for a cyclic frequency, s^-1 for an
      angular rate, J, K, m, m/s). A bare number is returned as it is (dimension ``None``),
      without any check: the model validates it.

    Raises:
      ValueError naming ``name`` and the accepted units, for an unknown unit, a unit of the
      wrong dimension, a non-finite value with a unit, or a negative temperature, length or
      velocity.

    Example:
      >>> from jaxtls import units
      >>> units.parse_quantity("5 GHz", "delta")
      Quantity(value=5000000000.0, dimension='frequency', unit='GHz', text='5 GHz')
      >>> units.parse_quantity("20mK", "T").value
      0.02
      >>> units.parse_quantity("0.5", "T")
      Quantity(value=0.5, dimension=None, unit=None, text='0.5')
      >>> units.parse_quantity("1um", "T", kind="temperature")  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      ValueError: T = '1um' is a length, not a temperature: use K, mK, uK, nK, or a bare ...
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    accepted = (
        accepted_units(kind) if kind else "a number with a unit of " + ", ".join(_SHOWN.values())
    )
    m = _NUMBER.match(str(text))
    if m is None:
        raise ValueError(f"{name} = {text!r} is not a number with a unit: use {accepted}")
    number, unit = m.group(1), m.group(2)
    value = float(number)
    if unit == "":
        return Quantity(value, None, None, text)
    unit_key = unit.replace(" ", "")
    if unit_key not in UNITS:
        raise ValueError(f"{name} = {text!r}: unknown unit {unit!r}; use {accepted}")
    dimension, factor = UNITS[unit_key]
    if kind is not None and dimension not in KINDS[kind]:
        raise ValueError(f"{name} = {text!r} is a {dimension}, not {_WANTED[kind]}: use {accepted}")
    if not math.isfinite(value):
        raise ValueError(f"{name} = {text!r} must be finite")
    if value < 0 and dimension in ("temperature", "length", "velocity"):
        raise ValueError(f"{name} = {text!r}: a {dimension} must be >= 0")
    for mu in _MICRO[1:]:
        unit_key = unit_key.replace(mu, "u")
    return Quantity(value * factor, dimension, unit_key, text)


def _ghz_per_si(dimension: str) -> float:
    """The splitting frequency (GHz) equivalent to one SI unit of ``dimension``.

    1 Hz is 1e-9 GHz (E = h nu), 1 s^-1 is 1e-9/(2 pi) GHz (E = hbar r), 1 J is 1/(h 1e9) GHz,
    1 K is k_B/(h 1e9) GHz. Frequencies avoid the round trip through h (5 GHz stays 5.0).
    """
    table = {
        "frequency": 1e-9,
        "rate": 1e-9 / (2 * math.pi),
        "energy": 1.0 / (H * 1e9),
        "temperature": K_B / (H * 1e9),
    }
    if dimension not in table:
        raise ValueError(
            f"a {dimension} has no value in units of Delta (lengths and velocities enter "
            "through dbar = Delta d / (hbar v))"
        )
    return table[dimension]


def _unit(unit: str) -> tuple[str, float]:
    if unit in SI_UNIT:  # a dimension name stands for its SI unit
        return unit, 1.0
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; known units: {', '.join(UNITS)}")
    return UNITS[unit]


def delta_ghz_from(value, unit: str) -> Array:
    """The splitting's cyclic frequency ``f = Delta / h`` in GHz, from a value in ``unit``.

    Args:
      value: array of any shape; ``unit``: a frequency (Hz...), angular rate (s^-1) or energy
        (eV...) unit.

    Returns:
      ``f`` in GHz, same shape as ``value``.

    Example:
      >>> from jaxtls import units
      >>> round(float(units.delta_ghz_from(20.678, "ueV")), 3)  # 20.678 ueV is about 5 GHz
      5.0
      >>> round(float(units.delta_ghz_from(2 * 3.141592653589793e9, "s^-1")), 12)
      1.0
    """
    dimension, factor = _unit(unit)
    if dimension not in KINDS["splitting"]:
        raise ValueError(f"the splitting needs a frequency or energy unit, got {unit!r}")
    return jnp.asarray(value, jnp.float64) * (factor * _ghz_per_si(dimension))


def to_dimensionless(value, unit: str, delta_ghz) -> Array:
    """A value in a physical ``unit`` expressed in units of Delta (hbar = k_B = 1).

    Args:
      value: array, any shape. unit: a name of ``UNITS`` (``"mK"``, ``"MHz"``, ``"s^-1"``,
        ``"ueV"``...) or a dimension name for its SI unit (``"temperature"`` = K,
        ``"frequency"`` = Hz, ``"rate"`` = s^-1, ``"energy"`` = J).
      delta_ghz: the splitting's cyclic frequency ``f = Delta/h`` in GHz, broadcasting with
        ``value``.

    Returns:
      ``E / Delta`` with ``E = k_B T``, ``h nu``, ``hbar r`` or the energy itself; shape of
      ``value`` broadcast with ``delta_ghz``.

    Example:
      >>> from jaxtls import units
      >>> float(units.to_dimensionless(1.0, "MHz", delta_ghz=5.0))
      0.0002
      >>> round(float(units.to_dimensionless(2 * 3.141592653589793e6, "s^-1", 5.0)), 12)
      0.0002
      >>> [round(float(t), 4) for t in units.to_dimensionless([200.0, 10.0], "mK", 5.0)]
      [0.8335, 0.0417]
    """
    dimension, factor = _unit(unit)
    per = factor * _ghz_per_si(dimension)  # GHz-equivalent of one `unit`
    return jnp.asarray(value, jnp.float64) * per / jnp.asarray(delta_ghz, jnp.float64)


def from_dimensionless(x, unit: str, delta_ghz) -> Array:
    """Inverse of :func:`to_dimensionless`: a value in units of Delta expressed in ``unit``.

    Example:
      >>> from jaxtls import units
      >>> round(float(units.from_dimensionless(1.0, "mK", delta_ghz=5.0)), 3)  # Delta/k_B
      239.962
      >>> float(units.from_dimensionless(2e-4, "MHz", 5.0))
      1.0
    """
    dimension, factor = _unit(unit)
    per = factor * _ghz_per_si(dimension)
    return jnp.asarray(x, jnp.float64) * jnp.asarray(delta_ghz, jnp.float64) / per


def temperature_scale(delta_ghz) -> Array:
    """``Delta / k_B = h f / k_B`` in kelvin, for a splitting of cyclic frequency ``f`` in GHz.

    Shape of ``delta_ghz``. A model temperature ``T`` is ``T x temperature_scale`` kelvin.

    Example:
      >>> from jaxtls import units
      >>> round(float(units.temperature_scale(1.0)) * 1e3, 4)  # 1 GHz is about 48 mK
      47.9924
    """
    return jnp.asarray(delta_ghz, jnp.float64) * (H * 1e9 / K_B)


def geometry_temperature(distance_um, velocity_m_s) -> Array:
    """``hbar v / (k_B d)`` in kelvin: the splitting (as a temperature) at which ``dbar = 1``.

    Args:
      distance_um: distance d between the two coupling points, in micrometres (any shape).
      velocity_m_s: field velocity v in m/s (broadcasts with ``distance_um``).

    This is the paper's estimate (sec. IV C 2): for ``Delta/k_B`` well above it, ``dbar`` is
    large and ``|K|/J`` small, so the temperatures that allow entanglement are of this order.
    d = 1 um and v = 1e3 m/s (sound in solids) give 7.64 mK, "about 10 mK".

    Example:
      >>> from jaxtls import units
      >>> round(float(units.geometry_temperature(1.0, 1e3)), 7)
      0.0076382
    """
    d = jnp.asarray(distance_um, jnp.float64) * 1e-6
    v = jnp.asarray(velocity_m_s, jnp.float64)
    return HBAR * v / (K_B * d)


def dbar(delta_ghz, distance_um, velocity_m_s) -> Array:
    """Reduced distance ``dbar = Delta d / (hbar v) = 2 pi f d / v`` (dimensionless).

    Args:
      delta_ghz: the splitting's cyclic frequency f in GHz; distance_um: d in micrometres;
      velocity_m_s: v in m/s. All broadcast together; the result has the broadcast shape.

    Feed it to :func:`jaxtls.kappa` for K/J. ``dbar = temperature_scale(f) /
    geometry_temperature(d, v)``.

    Example:
      >>> from jaxtls import units
      >>> round(float(units.dbar(1.0, 1.0, 1e3)), 6)  # 1 GHz, 1 um, 1 km/s
      6.283185
    """
    f = jnp.asarray(delta_ghz, jnp.float64) * 1e9
    d = jnp.asarray(distance_um, jnp.float64) * 1e-6
    v = jnp.asarray(velocity_m_s, jnp.float64)
    return 2 * math.pi * f * d / v


def splitting(text: str, name: str = "delta") -> tuple[float, float | None]:
    """Read the splitting as typed on a command line.

    Returns:
      ``(delta, delta_ghz)``: for a bare number, ``(float(text), None)`` (the model's own units,
      nothing to convert); with a frequency/energy unit, ``(1.0, f)`` with ``f = Delta/h`` in
      GHz: the model is then in units of that Delta.

    Example:
      >>> from jaxtls import units
      >>> units.splitting("5GHz")
      (1.0, 5.0)
      >>> units.splitting("2")
      (2.0, None)
    """
    q = parse_quantity(text, name, kind="splitting")
    if q.dimension is None:
        return q.value, None
    f = float(delta_ghz_from(q.value, SI_UNIT[q.dimension]))
    if not f > 0:
        raise ValueError(f"{name} = {text!r}: a splitting with a unit must be > 0")
    return 1.0, f


def model_value(text: str, name: str, kind: str, delta_ghz: float | None) -> float:
    """One command-line value in units of Delta.

    Args:
      text: a bare number (kept as it is: units of Delta) or a number with a unit.
      name: the parameter (for messages). kind: ``"temperature"`` or ``"rate"`` (``KINDS``).
      delta_ghz: the splitting's cyclic frequency in GHz, or ``None`` when the splitting was
        given as a bare number (then a value with a unit cannot be converted: ValueError).

    Example:
      >>> from jaxtls import units
      >>> round(units.model_value("200mK", "T", "temperature", 5.0), 6)
      0.833465
      >>> units.model_value("1MHz", "J", "rate", 5.0)
      0.0002
      >>> units.model_value("0.3", "J", "rate", None)
      0.3
    """
    q = parse_quantity(text, name, kind=kind)
    if q.dimension is None:
        return q.value
    if delta_ghz is None:
        raise ValueError(
            f"{name} = {text!r} has a unit but the splitting has none: give --delta with a "
            f"frequency or energy unit (e.g. --delta 5GHz), or {name} as a bare number in "
            "units of Delta"
        )
    return float(to_dimensionless(q.value, SI_UNIT[q.dimension], delta_ghz))


def join_unit_tokens(tokens: list[str]) -> list[str]:
    """Glue a unit typed as its own token onto the number before it: ``["5", "GHz"]`` ->
    ``["5 GHz"]`` (so ``--T 200 mK 10 mK`` reads like ``--T 200mK 10mK``).

    Example:
      >>> from jaxtls import units
      >>> units.join_unit_tokens(["200", "mK", "10mK", "0.1"])
      ['200 mK', '10mK', '0.1']
    """
    out: list[str] = []
    for tok in tokens:
        key = tok.strip().replace(" ", "")
        prev = _NUMBER.match(out[-1]) if out else None
        if key in UNITS and prev is not None and prev.group(2) == "":
            out[-1] = f"{out[-1]} {tok.strip()}"
        else:
            out.append(tok)
    return out


__all__ = [
    "E_CHARGE",
    "H",
    "HBAR",
    "K_B",
    "KINDS",
    "SI_UNIT",
    "UNITS",
    "Quantity",
    "accepted_units",
    "dbar",
    "delta_ghz_from",
    "from_dimensionless",
    "geometry_temperature",
    "join_unit_tokens",
    "model_value",
    "parse_quantity",
    "splitting",
    "temperature_scale",
    "to_dimensionless",
]
