//! OCC keys: property round trips and every symbol of a real vendor file.

use crate::common;

use chrono::NaiveDate;
use proptest::prelude::*;
use volta_core::{ContractKey, OptionRight, Strike};

fn key_strategy() -> impl Strategy<Value = ContractKey> {
    (
        "[A-Z][A-Z0-9]{0,5}",
        (2000i32..=2099, 1u32..=12, 1u32..=28),
        any::<bool>(),
        1u32..=99_999_999,
    )
        .prop_map(|(root, (y, m, d), call, thousandths)| {
            let right = if call {
                OptionRight::Call
            } else {
                OptionRight::Put
            };
            ContractKey::try_new(
                &root,
                NaiveDate::from_ymd_opt(y, m, d).unwrap(),
                right,
                Strike::from_thousandths(thousandths).unwrap(),
            )
            .unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn padded_and_compact_forms_round_trip(key in key_strategy()) {
        let padded = key.to_string();
        prop_assert_eq!(padded.len(), 21);
        prop_assert_eq!(&padded.parse::<ContractKey>().unwrap(), &key);
        prop_assert_eq!(&key.compact().parse::<ContractKey>().unwrap(), &key);
        prop_assert_eq!(key.compact(), padded.replace(' ', ""));
    }

    #[test]
    fn parsing_never_panics(s in "\\PC{0,30}") {
        let _ = s.parse::<ContractKey>();
    }

    #[test]
    fn order_is_root_expiry_strike_right(a in key_strategy(), b in key_strategy()) {
        let by_parts = (a.root(), a.expiry(), a.strike(), a.right() == OptionRight::Put)
            .cmp(&(b.root(), b.expiry(), b.strike(), b.right() == OptionRight::Put));
        prop_assert_eq!(a.cmp(&b), by_parts);
    }
}

/// Every `optionroot` of the 2021 SPY sample parses, agrees with the row's own columns, and
/// formats back to itself.
#[test]
fn spy_2021_sample_symbols_round_trip() {
    let Some(path) = common::data_file("options/SPY_sampled20_2021-01-04_to_2021-12-29.csv") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let key: ContractKey = f[2].parse().unwrap();
        assert_eq!(key.compact(), f[2]);
        assert_eq!(key.root(), "SPY");
        assert_eq!(
            key.expiry(),
            NaiveDate::parse_from_str(f[4], "%Y-%m-%d").unwrap()
        );
        let right = if f[3] == "call" {
            OptionRight::Call
        } else {
            OptionRight::Put
        };
        assert_eq!(key.right(), right);
        assert_eq!(
            key.strike(),
            Strike::from_f64(f[6].parse().unwrap()).unwrap()
        );
        n += 1;
    }
    assert_eq!(n, 5000);
}
