//! The exchanges' price grid for US options: the increments a limit price must be a multiple
//! of, by option class, for single-leg and complex (multi-leg) orders.
//!
//! | class | roots | single leg | complex order |
//! |---|---|---|---|
//! | S&P 500 index | SPX, SPXW, SPXPM | $0.05 below $3.00, $0.10 from $3.00 | $0.05 |
//! | Penny Interval Program, all prices | SPY, QQQ, IWM | $0.01 | $0.01 |
//! | other classes (assumed in the Penny Interval Program) | every other root | $0.01 below $3.00, $0.05 from $3.00 | $0.01 |
//!
//! Sources: Cboe Rule 5.4 (minimum increments; SPX single legs $0.05/$0.10, complex orders in
//! SPX $0.05 — Cboe's SPX product specification), and the Penny Interval Program's list, where
//! SPY, QQQ and IWM quote in pennies at every price. Complex orders in other classes may be
//! expressed in $0.01 (Cboe Rule 5.4(b)).
//!
//! ```
//! use rust_decimal::Decimal;
//! use volta_core::tick;
//!
//! let d = |s: &str| s.parse::<Decimal>().unwrap();
//! assert_eq!(tick::single_leg("SPX", d("2.95")), d("0.05"));
//! assert_eq!(tick::single_leg("SPXW", d("3.20")), d("0.10"));
//! assert_eq!(tick::complex("SPX"), d("0.05"));
//! // An SPX condor's credit of 3.09 is off the grid; toward the natural price it is 3.05.
//! assert_eq!(tick::round(d("-3.09"), "SPX", true, true), d("-3.05"));
//! ```

use rust_decimal::Decimal;

/// The option classes whose grids differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    SpxIndex,
    PennyAllPrices,
    PennyBelowThree,
}

fn class(root: &str) -> Class {
    match root {
        "SPX" | "SPXW" | "SPXPM" => Class::SpxIndex,
        "SPY" | "QQQ" | "IWM" => Class::PennyAllPrices,
        _ => Class::PennyBelowThree,
    }
}

const THREE: Decimal = Decimal::from_parts(3, 0, 0, false, 0);
const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);
const NICKEL: Decimal = Decimal::from_parts(5, 0, 0, false, 2);
const DIME: Decimal = Decimal::from_parts(10, 0, 0, false, 2);

/// The increment of a single-leg order in `root` at `price` (its absolute value counts).
#[must_use]
pub fn single_leg(root: &str, price: Decimal) -> Decimal {
    let above = price.abs() >= THREE;
    match (class(root), above) {
        (Class::PennyAllPrices, _) | (Class::PennyBelowThree, false) => CENT,
        (Class::SpxIndex, false) | (Class::PennyBelowThree, true) => NICKEL,
        (Class::SpxIndex, true) => DIME,
    }
}

/// The increment of a complex (multi-leg) order's net price in `root`.
#[must_use]
pub fn complex(root: &str) -> Decimal {
    match class(root) {
        Class::SpxIndex => NICKEL,
        Class::PennyAllPrices | Class::PennyBelowThree => CENT,
    }
}

/// The increment at `price` of an order in `root`, complex or single-leg.
#[must_use]
pub fn increment(root: &str, complex_order: bool, price: Decimal) -> Decimal {
    if complex_order {
        complex(root)
    } else {
        single_leg(root, price)
    }
}

/// Whether `price` is a multiple of the grid's increment at that price.
#[must_use]
pub fn on_grid(price: Decimal, root: &str, complex_order: bool) -> bool {
    let step = increment(root, complex_order, price);
    (price % step).is_zero()
}

/// `price` moved to the grid: up (toward +∞) when `up`, else down. For a BUY (the convention of
/// every combo Volta opens; a credit is a negative price) up is toward the natural price; for a
/// SELL, down.
#[must_use]
pub fn round(price: Decimal, root: &str, complex_order: bool, up: bool) -> Decimal {
    let snap = |p: Decimal, step: Decimal| {
        let units = p / step;
        let whole = if up { units.ceil() } else { units.floor() };
        whole * step
    };
    let mut rounded = snap(price, increment(root, complex_order, price));
    // Crossing $3.00 can change the single-leg increment: snap again on the new side.
    for _ in 0..2 {
        if on_grid(rounded, root, complex_order) {
            break;
        }
        rounded = snap(rounded, increment(root, complex_order, rounded));
    }
    rounded.normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_grids_by_class() {
        assert_eq!(single_leg("SPX", d("2.99")), d("0.05"));
        assert_eq!(single_leg("SPX", d("3.00")), d("0.10"));
        assert_eq!(single_leg("SPY", d("12.37")), d("0.01"));
        assert_eq!(single_leg("AAPL", d("2.99")), d("0.01"));
        assert_eq!(single_leg("AAPL", d("3.00")), d("0.05"));
        assert_eq!(complex("SPXW"), d("0.05"));
        assert_eq!(complex("IWM"), d("0.01"));
        assert!(on_grid(d("-3.05"), "SPX", true));
        // The closing price of the issue's SPX condor: 3.09 is off the $0.05 grid.
        assert!(!on_grid(d("3.09"), "SPX", true));
        assert!(on_grid(d("3.09"), "SPY", true));
        assert!(!on_grid(d("3.05"), "SPX", false));
        assert!(on_grid(d("2.95"), "SPX", false));
    }

    #[test]
    fn rounding_goes_the_asked_way_and_lands_on_the_grid() {
        assert_eq!(round(d("3.09"), "SPX", true, true), d("3.10"));
        assert_eq!(round(d("3.09"), "SPX", true, false), d("3.05"));
        assert_eq!(round(d("-1.234"), "SPY", true, true), d("-1.23"));
        assert_eq!(round(d("-1.234"), "SPY", true, false), d("-1.24"));
        // Single leg across $3: 2.97 up on the nickel grid is 3.00, on the dime grid too.
        assert_eq!(round(d("2.97"), "SPX", false, true), d("3.00"));
        assert_eq!(round(d("3.04"), "SPX", false, true), d("3.10"));
        assert_eq!(round(d("3.04"), "SPX", false, false), d("3.00"));
        assert_eq!(round(d("3.00"), "SPX", false, false), d("3.00"));
    }
}
