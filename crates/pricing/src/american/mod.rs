//! American options: Barone-Adesi-Whaley, Bjerksund-Stensland 2002, lattice, implied volatility.
