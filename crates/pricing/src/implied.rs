//! Implied volatility of European options (Jäckel 2015, "Let's Be Rational").
