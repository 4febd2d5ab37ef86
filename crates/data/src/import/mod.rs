//! File importers: daily bars, CBOE index histories, FRED rates and option chains, parsed
//! into typed records. Every importer is all or nothing: a file with one bad row returns an
//! error naming the file, line (1-based, header = line 1), column name and index, the text
//! read and what was expected, and no records.
//!
//! The format is detected from the header (never the file name); each importer takes an
//! optional format to force one. Gzipped files are recognised by their magic bytes.
//!
//! # Quirks of the real data: error or flag
//!
//! | quirk | treatment | why |
//! |---|---|---|
//! | leading space in ` exchange` (VXX) | accepted: headers are trimmed | a formatting artefact, no ambiguity |
//! | DTB3 holiday rows with an empty value (186) | kept as `None`, flagged [`FlagKind::MissingValue`] | FRED publishes them so; 0 would be a false rate |
//! | 47 VIX rows (1992–2006) whose high/low do not bracket open/close | kept, flagged [`FlagKind::OhlcInconsistent`] | CBOE published them; the close is still right, and failing would lose the whole history |
//! | O = H = L = C rows (VIX before 1992, ^GSPC before 1962) | accepted silently | consistent bars: only the close was recorded |
//! | SPY sample rows with bid > ask (17) | kept, flagged [`FlagKind::Crossed`]; [`volta_core::OptionQuote::flags`] also reports them | a crossed quote is market information on expiry days |
//! | expiration column a day before the OCC symbol's date (VXX, iVolatility SPX before 2015) | accepted; the key is re-dated to the expiration day (the session before the symbol's Saturday) | pre-2015 monthlies carry the Saturday in the symbol; every later key carries the expiration day, and last trading days and settlement are computed from it |
//! | vendor IV of 0 or > 5 on deep ITM/OTM rows (CBOE) | accepted as published | the vendor's raw output, kept for comparison only |
//! | iVolatility IV of −1 (168 SPXPM rows, 2011) | read as no IV (`None`) | the vendor's sentinel; any other negative IV is an error |
//! | last price 0 in chains | read as no last trade (`None`) | no option trades at 0 |
//! | blank open interest (`QuantConnect`) | read as 0 | the vendor's way of writing none |
//! | the 2014-08-08 rows of the AAPL iVolatility file are labelled `SPY` (symbol and option symbols) with AAPL's price | error unless the caller allows `SPY` ([`crate::DataError::UnknownSymbol`]) | the importer cannot know the label is wrong; the caller decides |
//! | raw prices across a split (QQQ 2000, IWM 2005) | returned raw with [`PriceBasis::Raw`]; [`split_adjust`] with [`known_splits`] adjusts | the file says it is raw; adjustment is an explicit step |
//!
//! Always errors: a missing or unknown column, a non-number, `NaN`/`inf`, a negative price
//! or dividend (or a non-positive bar price or index value), a bar whose high/low do not
//! bracket open/close in a stock or index bar file (no such row exists in the real files), a
//! duplicate date or one out of order in a time series, a contract quoted twice in one day,
//! a truncated last line (no final newline) or a row with the wrong number of fields, and an
//! underlying or option root the caller did not allow.
//!
//! Parquet chains are read by [`crate::parquet`]; [`crate::ingest`] imports files into a
//! store. Out of scope: Yahoo's JSON API responses.

mod bars;
mod chains;
mod index;
mod rates;
mod table;

pub use bars::{
    BarFormat, CashDividend, ImportedBars, PriceBasis, Split, import_bars, known_splits,
    parse_bars, split_adjust,
};
pub use chains::{
    ChainDay, ChainFormat, ChainRequest, ImportedChains, import_chains, parse_chains,
};
pub use index::{
    ImportedIndex, IndexFormat, IndexRecord, PUT_CALL_SERIES, PutCallDay, PutCallRatios,
    import_index, import_put_call_ratios, parse_index, parse_put_call_ratios,
};
pub use rates::{
    DTB3_DAYS, ImportedRates, RateObservation, RateSeries, discount_to_continuous, import_rates,
    overnight_to_continuous, parse_rates,
};
pub use table::{FlagKind, RowFlag};
