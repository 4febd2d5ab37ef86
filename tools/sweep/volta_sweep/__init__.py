"""Walk-forward parameter sweeps of Volta's backtester, farmed out with Ray (docs/sweep.md)."""
