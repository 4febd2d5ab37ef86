//! Calendar features from the NYSE calendar and the monthly expiries (facts known in
//! advance, not market data: a date's value is fixed whatever data exists).

use std::f64::consts::TAU;

use polars::prelude::*;

use super::{Builder, Family, Feature, flag};

#[expect(
    clippy::too_many_lines,
    reason = "one flat list of the family's features"
)]
pub(super) fn features() -> Vec<Feature> {
    let mut b = Builder::new(Family::Temporal);
    let none = &[][..];
    let c = col;
    b.add(
        "day_of_week",
        "weekday, 1 = Monday … 5 = Friday",
        0,
        none,
        c("cal_dow"),
    );
    b.add(
        "is_monday",
        "1[Monday]",
        0,
        none,
        flag(c("cal_dow").eq(lit(1.0))),
    );
    b.add(
        "is_friday",
        "1[Friday]",
        0,
        none,
        flag(c("cal_dow").eq(lit(5.0))),
    );
    b.add("month", "month, 1 … 12", 0, none, c("cal_month"));
    b.add(
        "month_sin",
        "sin(2π · month / 12)",
        0,
        none,
        (c("cal_month") * lit(TAU / 12.0)).sin(),
    );
    b.add(
        "month_cos",
        "cos(2π · month / 12)",
        0,
        none,
        (c("cal_month") * lit(TAU / 12.0)).cos(),
    );
    b.add(
        "day_of_month",
        "calendar day of the month",
        0,
        none,
        c("cal_day"),
    );
    b.add("quarter", "quarter, 1 … 4", 0, none, c("cal_quarter"));
    b.add(
        "sessions_to_opex",
        "sessions to the next standard monthly expiry (0 on it)",
        0,
        none,
        c("cal_sessions_to_opex"),
    );
    b.add(
        "days_to_opex",
        "calendar days to the next standard monthly expiry (0 on it)",
        0,
        none,
        c("cal_days_to_opex"),
    );
    b.add(
        "is_opex_day",
        "1[the session is a standard monthly expiry]",
        0,
        none,
        flag(c("cal_days_to_opex").eq(lit(0.0))),
    );
    b.add(
        "opex_week",
        "1[a standard monthly expiry falls in this Monday-to-Sunday week]",
        0,
        none,
        c("cal_opex_week"),
    );
    b.add(
        "days_to_holiday",
        "calendar days to the next weekday NYSE holiday",
        0,
        none,
        c("cal_days_to_holiday"),
    );
    b.add(
        "pre_holiday",
        "1[the next weekday is an NYSE holiday]",
        0,
        none,
        c("cal_pre_holiday"),
    );
    b.add(
        "trading_day_of_month",
        "session number within the month, 1-based",
        0,
        none,
        c("cal_tdom"),
    );
    b.add(
        "trading_days_left_month",
        "sessions left in the month after this one",
        0,
        none,
        c("cal_tdleft"),
    );
    b.add(
        "turn_of_month",
        "1[last session of the month or one of the first three]",
        0,
        none,
        flag(
            c("cal_tdleft")
                .eq(lit(0.0))
                .or(c("cal_tdom").lt_eq(lit(3.0))),
        ),
    );
    b.add(
        "sessions_to_quarter_end",
        "sessions to the quarter's last session (0 on it)",
        0,
        none,
        c("cal_sessions_to_qend"),
    );
    b.add(
        "gap_days",
        "calendar days since the previous NYSE session (3 after a weekend)",
        0,
        none,
        c("cal_gap_days"),
    );
    b.finish()
}
