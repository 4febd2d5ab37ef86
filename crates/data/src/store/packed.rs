//! A snapshot's quotes packed into one value: `chain_snapshots.packed_quotes` (migration 0003),
//! beside the same quotes' rows in `option_quotes`.
//!
//! Why: a chain is read whole, at every decision of every backtest, and reading it row by row
//! pays per value. PostgreSQL spent ~6 ms of server time in its per-value output functions on a
//! 5 000-quote chain (14 columns × 5 000 rows) before a byte crossed the socket, and each
//! SQLite value went through text parsing. Read as one value, a chain costs one lookup and one
//! pass over bytes, in both stores.
//!
//! The rows stay the record: SQL users, [`contract_history`](super::MarketStore::contract_history)
//! and `copy-store` read them, and the packed value is derived from them. `upsert_chains`
//! writes both in one transaction — packed from the batch's own quotes for a snapshot the batch
//! creates, rebuilt from the rows for one that existed before it — and a snapshot whose packed
//! value is NULL (a row written by another tool) is read from its rows.
//!
//! Format 1, little-endian; `uv` is an unsigned LEB128 varint, `sv` a zigzag-encoded signed one:
//! ```text
//! "VQ" 1                                  magic and format
//! uv series, then per series:             the (root, expiry) pairs, in first-use order
//!     u8 len, root bytes, sv expiry       expiry in days from 0001-01-01 (chrono's CE days)
//! uv quotes, then per quote:
//!     uv series index
//!     u8 flags: 1 put, 2 bid, 4 ask, 8 last, 16 updated_at, 32 vendor analytics
//!     uv strike in thousandths
//!     bid, ask, last when flagged: u8 scale, sv mantissa
//!     uv volume, uv open interest
//!     updated_at when flagged: sv seconds since 1970-01-01 00:00, uv nanoseconds
//!     vendor when flagged: u8 mask (1 iv, 2 delta, 4 gamma, 8 theta, 16 vega), then each
//!         present value as the 8 bytes of its f64 (bit for bit)
//! ```
//! Quotes are packed in the chain's own order, so building the [`ChainSnapshot`] back sorts
//! nothing.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use volta_core::{
    ChainSnapshot, ContractKey, OptionQuote, OptionRight, Price, Strike, VendorAnalytics,
};

const MAGIC: &[u8; 3] = b"VQ\x01";

const PUT: u8 = 1;
const BID: u8 = 2;
const ASK: u8 = 4;
const LAST: u8 = 8;
const UPDATED_AT: u8 = 16;
const VENDOR: u8 = 32;

/// What [`unpack`] found wrong, for [`DataError::StoreCorrupt`](crate::DataError::StoreCorrupt)'s
/// value.
pub(crate) type Problem = String;

/// What a packed value must be, for [`DataError::StoreCorrupt`](crate::DataError::StoreCorrupt).
pub(crate) const EXPECTED: &str = "quotes packed in format 1 (VQ1)";

/// Packs `quotes` (a chain's, in its order) into one value.
pub(crate) fn pack<'a>(quotes: impl IntoIterator<Item = &'a OptionQuote>) -> Vec<u8> {
    let quotes: Vec<&OptionQuote> = quotes.into_iter().collect();
    let mut out = Vec::with_capacity(16 + quotes.len() * 48);
    out.extend_from_slice(MAGIC);
    // The series table: a chain has a few dozen (root, expiry) pairs for thousands of quotes.
    let mut series: Vec<(&str, NaiveDate)> = Vec::new();
    let mut index_of = Vec::with_capacity(quotes.len());
    for q in &quotes {
        let pair = (q.key.root(), q.key.expiry());
        // Quotes come grouped by expiry, so the pair is nearly always the last one seen.
        let i = if let Some(i) = series.iter().rposition(|s| *s == pair) {
            i
        } else {
            series.push(pair);
            series.len() - 1
        };
        index_of.push(i);
    }
    put_uv(&mut out, series.len() as u128);
    for (root, expiry) in &series {
        // A root is 1-6 ASCII characters (ContractKey checks it).
        out.push(root.len() as u8);
        out.extend_from_slice(root.as_bytes());
        put_sv(&mut out, i128::from(expiry.num_days_from_ce()));
    }
    put_uv(&mut out, quotes.len() as u128);
    for (q, series) in quotes.iter().zip(index_of) {
        put_uv(&mut out, series as u128);
        let mut flags = 0;
        for (present, bit) in [
            (q.key.right() == OptionRight::Put, PUT),
            (q.bid.is_some(), BID),
            (q.ask.is_some(), ASK),
            (q.last.is_some(), LAST),
            (q.updated_at.is_some(), UPDATED_AT),
            (q.vendor.is_some(), VENDOR),
        ] {
            if present {
                flags |= bit;
            }
        }
        out.push(flags);
        put_uv(&mut out, u128::from(q.key.strike().thousandths()));
        for price in [q.bid, q.ask, q.last].into_iter().flatten() {
            let d = price.value();
            // A Decimal's scale is at most 28.
            out.push(d.scale() as u8);
            put_sv(&mut out, d.mantissa());
        }
        put_uv(&mut out, u128::from(q.volume));
        put_uv(&mut out, u128::from(q.open_interest));
        if let Some(t) = q.updated_at {
            let t = t.and_utc();
            put_sv(&mut out, i128::from(t.timestamp()));
            put_uv(&mut out, u128::from(t.timestamp_subsec_nanos()));
        }
        if let Some(v) = q.vendor {
            let values = [v.implied_vol, v.delta, v.gamma, v.theta, v.vega];
            let mask = values
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_some())
                .fold(0u8, |m, (i, _)| m | (1 << i));
            out.push(mask);
            for x in values.into_iter().flatten() {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
    out
}

/// The quotes `bytes` holds, in the order they were packed, or what is wrong with it.
pub(crate) fn unpack(bytes: &[u8]) -> Result<Vec<OptionQuote>, Problem> {
    let mut r = Cursor {
        bytes,
        at: 0,
        quote: None,
    };
    if r.take(3, "the magic")? != MAGIC {
        return Err(format!(
            "{} bytes not starting with VQ1 (format 1)",
            bytes.len()
        ));
    }
    let n_series = r.len("the series count")?;
    let mut series = Vec::with_capacity(n_series);
    for _ in 0..n_series {
        let len = usize::from(r.u8("a root's length")?);
        let root = std::str::from_utf8(r.take(len, "a root")?)
            .map_err(|_| r.problem("a root that is not UTF-8"))?;
        let days = i32::try_from(r.sv("an expiry")?)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(|| r.problem("an expiry out of range"))?;
        series.push((root, days));
    }
    let n_quotes = r.len("the quote count")?;
    let mut quotes = Vec::with_capacity(n_quotes);
    for n in 0..n_quotes {
        r.quote = Some(n);
        quotes.push(r.quote(&series)?);
    }
    r.quote = None;
    if r.at != bytes.len() {
        return Err(r.problem("bytes after the last quote"));
    }
    Ok(quotes)
}

/// Puts `quotes` in the order of [`ChainSnapshot::iter`].
pub(crate) fn sort_in_chain_order(quotes: &mut [OptionQuote]) {
    quotes.sort_unstable_by(|a, b| a.key.cmp_chain_order(&b.key));
}

/// The snapshots one `upsert_chains` batch writes, each with the pieces of it the batch holds
/// (a file often holds one snapshot in many pieces), in the order first seen.
#[derive(Default)]
pub(crate) struct Touched<'c> {
    snapshots: Vec<(i64, bool, Vec<&'c ChainSnapshot>)>,
    by_id: HashMap<i64, usize>,
}

impl<'c> Touched<'c> {
    /// Snapshot `id` is written by this batch; `existed` if it was in the store before it.
    pub(crate) fn snapshot(&mut self, id: i64, existed: bool) {
        if !self.by_id.contains_key(&id) {
            self.by_id.insert(id, self.snapshots.len());
            self.snapshots.push((id, existed, Vec::new()));
        }
    }

    /// `chain` is a piece of snapshot `id` (declared by [`Touched::snapshot`] first).
    pub(crate) fn piece(&mut self, id: i64, chain: &'c ChainSnapshot) {
        if let Some(&i) = self.by_id.get(&id) {
            self.snapshots[i].2.push(chain);
        }
    }

    /// The packed values still to write once the batch's rows are written: for each snapshot
    /// this batch created in several pieces, its quotes merged (a later piece's quote of a
    /// contract replaces an earlier one's, as the upsert of its row does; the snapshot's insert
    /// carried its first piece's, the whole value when there is one piece); and the ids of the
    /// snapshots that existed before, whose rows hold quotes the batch does not, to be packed
    /// again from the rows.
    pub(crate) fn rest(&self) -> (Vec<(i64, Vec<u8>)>, Vec<i64>) {
        let mut merged = Vec::new();
        let mut existing = Vec::new();
        for (id, existed, pieces) in &self.snapshots {
            if *existed {
                existing.push(*id);
            } else if pieces.len() > 1 {
                let mut latest: HashMap<&ContractKey, &OptionQuote> = HashMap::new();
                for q in pieces.iter().flat_map(|c| c.iter()) {
                    latest.insert(&q.key, q);
                }
                let mut quotes: Vec<OptionQuote> = latest.into_values().cloned().collect();
                sort_in_chain_order(&mut quotes);
                merged.push((*id, pack(&quotes)));
            }
        }
        (merged, existing)
    }
}

fn put_uv(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_sv(out: &mut Vec<u8>, v: i128) {
    put_uv(out, ((v << 1) ^ (v >> 127)).cast_unsigned());
}

/// Reads a packed value front to back; every read names what it wanted (and in which quote)
/// when the bytes end or do not fit.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The quote being read, for messages.
    quote: Option<usize>,
}

impl<'a> Cursor<'a> {
    fn problem(&self, what: &str) -> Problem {
        let (len, at) = (self.bytes.len(), self.at);
        match self.quote {
            Some(n) => format!("{len} bytes: quote {n}: {what} at byte {at}"),
            None => format!("{len} bytes: {what} at byte {at}"),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Problem> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.problem(&format!("{what} cut short")));
        };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, Problem> {
        Ok(self.take(1, what)?[0])
    }

    fn uv(&mut self, what: &str) -> Result<u128, Problem> {
        let mut v: u128 = 0;
        for shift in (0..128).step_by(7) {
            let b = self.u8(what)?;
            let part = u128::from(b & 0x7f);
            if shift == 126 && part > 0b11 {
                return Err(self.problem(&format!("{what} beyond 128 bits")));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.problem(&format!("{what} beyond 128 bits")))
    }

    fn sv(&mut self, what: &str) -> Result<i128, Problem> {
        let u = self.uv(what)?;
        Ok((u >> 1).cast_signed() ^ -((u & 1).cast_signed()))
    }

    /// An unsigned varint that must fit `T`.
    fn uv_as<T: TryFrom<u128>>(&mut self, what: &str) -> Result<T, Problem> {
        let v = self.uv(what)?;
        T::try_from(v).map_err(|_| self.problem(&format!("{what} out of range")))
    }

    /// A count of items that follow, each at least one byte long: more than the bytes left is
    /// refused before anything is allocated for them.
    fn len(&mut self, what: &str) -> Result<usize, Problem> {
        let n = self.uv(what)?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len() - self.at)
            .ok_or_else(|| self.problem(&format!("{what} {n} beyond the bytes left")))
    }

    /// A price, when `flags` has `bit`.
    fn price(&mut self, flags: u8, bit: u8, what: &str) -> Result<Option<Price>, Problem> {
        if flags & bit == 0 {
            return Ok(None);
        }
        let scale = u32::from(self.u8(what)?);
        let mantissa = self.sv(what)?;
        Decimal::try_from_i128_with_scale(mantissa, scale)
            .ok()
            .and_then(|d| Price::try_new(d).ok())
            .map(Some)
            .ok_or_else(|| self.problem(&format!("a {what} that is not a price")))
    }

    /// One quote, its series looked up in `series`.
    fn quote(&mut self, series: &[(&str, NaiveDate)]) -> Result<OptionQuote, Problem> {
        let (root, expiry) = *self
            .uv_as::<usize>("the series")
            .ok()
            .and_then(|i| series.get(i))
            .ok_or_else(|| self.problem("an unknown series"))?;
        let flags = self.u8("the flags")?;
        let strike = Strike::from_thousandths(self.uv_as("the strike")?)
            .map_err(|_| self.problem("a strike out of range"))?;
        let right = if flags & PUT == 0 {
            OptionRight::Call
        } else {
            OptionRight::Put
        };
        let key = ContractKey::try_new(root, expiry, right, strike)
            .map_err(|e| self.problem(&format!("a bad contract ({e})")))?;
        let bid = self.price(flags, BID, "bid")?;
        let ask = self.price(flags, ASK, "ask")?;
        let last = self.price(flags, LAST, "last")?;
        let volume = self.uv_as("the volume")?;
        let open_interest = self.uv_as("the open interest")?;
        let updated_at = if flags & UPDATED_AT == 0 {
            None
        } else {
            let seconds: i64 = i64::try_from(self.sv("updated_at")?)
                .map_err(|_| self.problem("an updated_at out of range"))?;
            let nanos: u32 = self.uv_as("updated_at")?;
            let t: Option<NaiveDateTime> =
                DateTime::from_timestamp(seconds, nanos).map(|t| t.naive_utc());
            Some(t.ok_or_else(|| self.problem("an updated_at out of range"))?)
        };
        let vendor = if flags & VENDOR == 0 {
            None
        } else {
            let mask = self.u8("the vendor mask")?;
            let mut values = [None; 5];
            for (i, v) in values.iter_mut().enumerate() {
                if mask & (1 << i) != 0 {
                    let mut raw = [0u8; 8];
                    raw.copy_from_slice(self.take(8, "a vendor value")?);
                    *v = Some(f64::from_le_bytes(raw));
                }
            }
            let [implied_vol, delta, gamma, theta, vega] = values;
            Some(VendorAnalytics {
                implied_vol,
                delta,
                gamma,
                theta,
                vega,
            })
        };
        Ok(OptionQuote {
            key,
            bid,
            ask,
            last,
            volume,
            open_interest,
            updated_at,
            vendor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quote(root: &str, expiry: (i32, u32, u32), put: bool, strike: u32) -> OptionQuote {
        let expiry = NaiveDate::from_ymd_opt(expiry.0, expiry.1, expiry.2).unwrap();
        let right = if put {
            OptionRight::Put
        } else {
            OptionRight::Call
        };
        let strike = Strike::from_thousandths(strike).unwrap();
        OptionQuote::new(
            ContractKey::try_new(root, expiry, right, strike).unwrap(),
            None,
            None,
        )
    }

    #[test]
    fn a_quote_with_every_field_comes_back_exactly() {
        let mut q = quote("SPXW", (2019, 5, 17), true, 2_900_000);
        q.bid = Some("12.3".parse().unwrap());
        q.ask = Some("0.000000000000000000000000001".parse().unwrap());
        q.last = Some("79228162514264337593543950335".parse().unwrap()); // Decimal::MAX
        q.volume = u64::MAX;
        q.open_interest = 7;
        q.updated_at = NaiveDate::from_ymd_opt(2019, 1, 2)
            .unwrap()
            .and_hms_nano_opt(15, 59, 59, 123_456_789);
        q.vendor = Some(VendorAnalytics {
            implied_vol: Some(0.1234),
            delta: Some(-0.0),
            gamma: None,
            theta: Some(f64::MIN_POSITIVE),
            vega: Some(1e300),
        });
        let back = unpack(&pack([q.clone()].iter())).unwrap();
        assert_eq!(back, vec![q.clone()]);
        let delta = back[0].vendor.unwrap().delta.unwrap();
        assert!(delta == 0.0 && delta.is_sign_negative(), "-0.0 bit for bit");
    }

    #[test]
    fn an_empty_chain_is_three_bytes_and_two_counts() {
        let packed = pack(std::iter::empty());
        assert_eq!(packed, b"VQ\x01\x00\x00");
        assert_eq!(unpack(&packed).unwrap(), vec![]);
    }

    #[test]
    fn damaged_values_are_refused_naming_the_place() {
        let mut q = quote("SPY", (2021, 3, 19), false, 390_000);
        q.bid = Some("1.05".parse().unwrap());
        let packed = pack([q].iter());
        let err = unpack(&packed[..packed.len() - 1]).unwrap_err();
        assert!(
            err.contains("quote 0: the open interest cut short at byte"),
            "{err}"
        );
        let mut longer = packed.clone();
        longer.push(0);
        assert!(
            unpack(&longer)
                .unwrap_err()
                .contains("bytes after the last quote")
        );
        assert!(
            unpack(b"PK\x03\x04")
                .unwrap_err()
                .contains("not starting with VQ1")
        );
        // A series count of 2^60 is refused before anything is allocated for it.
        let mut huge = b"VQ\x01".to_vec();
        put_uv(&mut huge, 1 << 60);
        assert!(unpack(&huge).unwrap_err().contains("beyond the bytes left"));
        // A root that ContractKey refuses (lower case).
        let mut bad = packed.clone();
        let at = bad.iter().position(|&b| b == b'S').unwrap();
        bad[at] = b's';
        assert!(
            unpack(&bad).unwrap_err().contains("a bad contract"),
            "{:?}",
            unpack(&bad)
        );
    }

    fn arb_quote() -> impl Strategy<Value = OptionQuote> {
        let price = proptest::option::of(
            (0i64..i64::MAX, 0u32..=28)
                .prop_map(|(m, s)| Price::try_new(Decimal::new(m, s)).unwrap()),
        );
        let float = proptest::option::of(proptest::num::f64::ANY);
        (
            (
                prop::sample::select(vec!["SPX", "SPXW", "SPY", "QQQ", "IWM7"]),
                0u32..3000,
            ),
            (any::<bool>(), 1u32..99_999_999),
            (price.clone(), price.clone(), price),
            (any::<u64>(), any::<u64>()),
            proptest::option::of((-2_000_000_000i64..4_000_000_000, 0u32..1_000_000_000)),
            proptest::option::of((
                float.clone(),
                float.clone(),
                float.clone(),
                float.clone(),
                float,
            )),
        )
            .prop_map(
                |((root, day), (put, strike), (bid, ask, last), (volume, oi), at, vendor)| {
                    let expiry = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()
                        + chrono::Days::new(u64::from(day) * 12);
                    let right = if put {
                        OptionRight::Put
                    } else {
                        OptionRight::Call
                    };
                    let strike = Strike::from_thousandths(strike).unwrap();
                    OptionQuote {
                        key: ContractKey::try_new(root, expiry, right, strike).unwrap(),
                        bid,
                        ask,
                        last,
                        volume,
                        open_interest: oi,
                        updated_at: at
                            .map(|(s, n)| DateTime::from_timestamp(s, n).unwrap().naive_utc()),
                        vendor: vendor.map(|(implied_vol, delta, gamma, theta, vega)| {
                            VendorAnalytics {
                                implied_vol,
                                delta,
                                gamma,
                                theta,
                                vega,
                            }
                        }),
                    }
                },
            )
    }

    /// Vendor values compared bit for bit (NaN is not equal to itself under `==`).
    fn bits(q: &OptionQuote) -> Option<[Option<u64>; 5]> {
        q.vendor.map(|v| {
            [v.implied_vol, v.delta, v.gamma, v.theta, v.vega].map(|x| x.map(f64::to_bits))
        })
    }

    proptest! {
        #[test]
        fn every_quote_comes_back_exactly(quotes in proptest::collection::vec(arb_quote(), 0..40)) {
            let back = unpack(&pack(quotes.iter())).unwrap();
            prop_assert_eq!(back.len(), quotes.len());
            for (b, q) in back.iter().zip(&quotes) {
                prop_assert_eq!(bits(b), bits(q));
                let (mut b, mut q) = (b.clone(), q.clone());
                b.vendor = None;
                q.vendor = None;
                prop_assert_eq!(b, q);
            }
        }

        #[test]
        fn no_damage_panics(quotes in proptest::collection::vec(arb_quote(), 1..5), cut in any::<usize>(), flip in any::<(usize, u8)>()) {
            let packed = pack(quotes.iter());
            let _ = unpack(&packed[..cut % packed.len()]);
            let mut bad = packed.clone();
            let at = flip.0 % bad.len();
            bad[at] ^= flip.1;
            let _ = unpack(&bad);
        }
    }
}
