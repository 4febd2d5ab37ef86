"""Type stubs of the compiled module (crates/pricing-py/src/lib.rs).

Each function takes contiguous 1-D columns of equal length (rights as int8 ±1) and returns
its output columns and a uint8 column of error codes. Use the wrappers in ``volta_pricing``,
which broadcast and convert.
"""

import numpy as np
import numpy.typing as npt

_F = npt.NDArray[np.float64]
_R = npt.NDArray[np.int8]
_Out = tuple[list[_F], npt.NDArray[np.uint8]]

__version__: str

def european(
    right: _R, spot: _F, strike: _F, years: _F, rate: _F, dividend_yield: _F, vol: _F,
    forward: bool, greeks: bool, parallel: bool,
) -> _Out: ...
def second_order(
    right: _R, spot: _F, strike: _F, years: _F, rate: _F, dividend_yield: _F, vol: _F,
    forward: bool, parallel: bool,
) -> _Out: ...
def implied_vol(
    right: _R, spot: _F, strike: _F, years: _F, rate: _F, dividend_yield: _F, price: _F,
    forward: bool, parallel: bool,
) -> _Out: ...
def american(
    right: _R, spot: _F, strike: _F, years: _F, rate: _F, dividend_yield: _F, last: _F,
    model: str, steps: int, greeks: bool, implied: bool, parallel: bool,
) -> _Out: ...
def error_codes() -> list[tuple[int, str, str]]: ...
