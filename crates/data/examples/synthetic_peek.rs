//! Prints a few rows of a synthetic chain.
use chrono::NaiveDate;
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};
fn main() -> volta_data::Result<()> {
    let config = SyntheticConfig {
        start: NaiveDate::from_ymd_opt(2023, 3, 1).unwrap(),
        end: NaiveDate::from_ymd_opt(2023, 3, 10).unwrap(),
        initial_spot: 400.0,
        ..SyntheticConfig::default()
    };
    let m = SyntheticMarket::generate(&config)?;
    let c = m.chain(2)?;
    println!(
        "{} spot {} vix {} n {}",
        c.as_of(),
        c.underlying_price(),
        m.days()[2].vix,
        c.len()
    );
    for e in c.expiries() {
        let q = c.quotes(e);
        println!(
            "{e} {} quotes, strikes {}..{}",
            q.len(),
            q[0].key.strike(),
            q[q.len() - 1].key.strike()
        );
    }
    let e = c.expiries().nth(8).unwrap();
    for q in c.quotes(e).iter().step_by(7) {
        let v = q.vendor.unwrap();
        println!(
            "{} {:?} {:?} vol {} oi {} iv {:.4} d {:.3}",
            q.key,
            q.bid.map(|p| p.to_string()),
            q.ask.map(|p| p.to_string()),
            q.volume,
            q.open_interest,
            v.implied_vol.unwrap(),
            v.delta.unwrap()
        );
    }
    Ok(())
}
