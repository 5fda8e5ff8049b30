"""jaxtls: non-equilibrium steady states of two two-level systems coupled to heat baths.

Importing jaxtls enables float64 in JAX (``jax_enable_x64``) once, for the whole process:
the rates of this model span many decades and the solvers need double precision.

Example:
  >>> import jaxtls
  >>> m = jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0])
  >>> rho = jaxtls.steady_state(m)
  >>> round(float(jaxtls.negativity(rho)), 4)
  0.0325
"""

import jax

jax.config.update("jax_enable_x64", True)

from . import distributed  # noqa: E402  (sweeps, designs, searches over many processes)
from .batching import AXES, Grid, Points, SweepResult, load_sweep, sweep, two_bath_model  # noqa: E402
from .baths import Bath, BathTerms, bath_terms, model_from_baths, pv_integrals  # noqa: E402
from .blocks import blocked  # noqa: E402
from .design import Axis, DoeSummary, design_points, latin_hypercube, run_doe, sobol  # noqa: E402
from .dynamics import (  # noqa: E402
    evolve,
    negativity_trajectory,
    product_ground_state,
    rotating_liouvillian,
    thermal_state,
    time_to_fraction,
)
from .geometry import DIMENSIONS, bessel_j0, cross_coupling, kappa  # noqa: E402
from .heat import entropy_production, heat_currents  # noqa: E402
from .interop import from_qutip, qutip_operators, to_qutip, to_xarray, xarray_inputs  # noqa: E402
from .liouvillian import liouvillian, liouvillian_steady_state  # noqa: E402
from .measures import (  # noqa: E402
    N_PAPER,
    bell_populations,
    concurrence,
    log_negativity,
    negativity,
    partial_transpose,
    pt_eigenvalues,
    pt_min_eigenvalue,
)
from .model import Model, is_valid, rules, validate  # noqa: E402
from .plotting import plot_state  # noqa: E402
from .progress import ProgressBar, progress_bar  # noqa: E402
from .rates import BellChannels, Rates, bath_weights, bell_channels, bose, rates  # noqa: E402
from .relaxation import relaxation_rate, sector_rates  # noqa: E402
from .robustness import detuning_tolerance  # noqa: E402
from .steady_state import (  # noqa: E402
    Diagnostics,
    XState,
    closed_form,
    density_matrix,
    diagnose,
    steady_state,
)  # noqa: E402
from .units import (  # noqa: E402
    Quantity,
    dbar,
    from_dimensionless,
    geometry_temperature,
    parse_quantity,
    temperature_scale,
    to_dimensionless,
)

__version__ = "0.1.0"

__all__ = [
    "density_matrix",
    "N_PAPER",
    "ProgressBar",
    "progress_bar",
    "evolve",
    "negativity_trajectory",
    "product_ground_state",
    "rotating_liouvillian",
    "thermal_state",
    "time_to_fraction",
    "to_qutip",
    "from_qutip",
    "qutip_operators",
    "to_xarray",
    "xarray_inputs",
    "plot_state",
    "Bath",
    "BathTerms",
    "bath_terms",
    "blocked",
    "model_from_baths",
    "pv_integrals",
    "sobol",
    "run_doe",
    "latin_hypercube",
    "design_points",
    "DoeSummary",
    "Axis",
    "two_bath_model",
    "sweep",
    "load_sweep",
    "distributed",
    "SweepResult",
    "Points",
    "Grid",
    "AXES",
    "XState",
    "sector_rates",
    "relaxation_rate",
    "detuning_tolerance",
    "heat_currents",
    "entropy_production",
    "DIMENSIONS",
    "BellChannels",
    "Diagnostics",
    "Model",
    "Rates",
    "bath_weights",
    "bell_channels",
    "bell_populations",
    "bessel_j0",
    "bose",
    "closed_form",
    "concurrence",
    "cross_coupling",
    "diagnose",
    "kappa",
    "liouvillian",
    "liouvillian_steady_state",
    "log_negativity",
    "negativity",
    "partial_transpose",
    "pt_eigenvalues",
    "pt_min_eigenvalue",
    "rates",
    "steady_state",
    "validate",
    "is_valid",
    "rules",
    "units",
    "Quantity",
    "dbar",
    "from_dimensionless",
    "geometry_temperature",
    "parse_quantity",
    "temperature_scale",
    "to_dimensionless",
]
