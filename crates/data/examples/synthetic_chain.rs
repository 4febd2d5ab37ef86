//! Prints one session of the synthetic market: the bar, the VIX-like index, the expiries
//! listed and a slice of one expiry's quotes.
//!
//! `cargo run -p volta-data --example synthetic_chain`

use chrono::NaiveDate;
use volta_data::synthetic::{SyntheticConfig, SyntheticMarket};

fn main() -> volta_data::Result<()> {
    let config = SyntheticConfig {
        start: NaiveDate::from_ymd_opt(2023, 3, 1).unwrap_or_default(),
        end: NaiveDate::from_ymd_opt(2023, 3, 10).unwrap_or_default(),
        initial_spot: 400.0,
        ..SyntheticConfig::default()
    };
    let market = SyntheticMarket::generate(&config)?;
    let day = &market.days()[2];
    let chain = market.chain(2)?;
    println!(
        "{} {:?} VIX {} — {} quotes at {}",
        day.bar.date,
        day.bar.ohlcv,
        day.vix,
        chain.len(),
        chain.as_of()
    );
    for expiry in chain.expiries() {
        let quotes = chain.quotes(expiry);
        println!(
            "  {expiry}: {} quotes, strikes {}..{}",
            quotes.len(),
            quotes[0].key.strike(),
            quotes[quotes.len() - 1].key.strike()
        );
    }
    if let Some(expiry) = chain.expiries().nth(8) {
        for q in chain.quotes(expiry).iter().step_by(7) {
            let iv = q.vendor.and_then(|v| v.implied_vol).unwrap_or(f64::NAN);
            println!(
                "  {} bid {:?} ask {:?} volume {} OI {} IV {iv:.4}",
                q.key,
                q.bid.map(|p| p.to_string()),
                q.ask.map(|p| p.to_string()),
                q.volume,
                q.open_interest
            );
        }
    }
    Ok(())
}
