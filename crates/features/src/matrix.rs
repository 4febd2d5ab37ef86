//! The feature matrix: dates × features, `f64` with NaN for missing values, written to and
//! read from Parquet with key-value metadata naming the feature-set version, the symbol, the
//! range and where each family's inputs came from.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::error::{FeatureError, Result};
use crate::library::{Family, FeatureSpec, feature_set_version};
use crate::panel::{DailyPanel, Provenance, Source};

/// Metadata key of the feature-set version (`<semver>+<registry hash>`).
pub const META_VERSION: &str = "volta.feature_set_version";
/// Metadata key of the underlying.
pub const META_SYMBOL: &str = "volta.symbol";
/// Metadata key of the first date.
pub const META_START: &str = "volta.start";
/// Metadata key of the last date.
pub const META_END: &str = "volta.end";
/// Metadata key prefix of a family's provenance (`volta.provenance.options`, …).
pub const META_PROVENANCE: &str = "volta.provenance.";
/// Metadata key of the peers in slots 1 and 2 (`QQQ,IWM`).
pub const META_PEERS: &str = "volta.peers";
/// Metadata key of the sessions without a bar, counted.
pub const META_MISSING_SESSIONS: &str = "volta.missing_sessions";

/// Dates × features. Columns are in registry order; NaN is missing (see the NaN policy in
/// [`crate::library`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    dates: Vec<NaiveDate>,
    names: Vec<String>,
    /// Column-major values: `columns[j][i]` is feature j on date i.
    columns: Vec<Vec<f64>>,
    metadata: BTreeMap<String, String>,
}

impl FeatureMatrix {
    /// A matrix from its parts.
    ///
    /// # Errors
    /// [`FeatureError::InvalidConfig`] if a column's length differs from the dates' or the
    /// names are not as many as the columns.
    pub fn new(
        dates: Vec<NaiveDate>,
        names: Vec<String>,
        columns: Vec<Vec<f64>>,
        metadata: BTreeMap<String, String>,
    ) -> Result<Self> {
        if names.len() != columns.len() || columns.iter().any(|c| c.len() != dates.len()) {
            return Err(FeatureError::InvalidConfig {
                field: "feature matrix shape",
                value: format!(
                    "{} names, {} columns, {} dates",
                    names.len(),
                    columns.len(),
                    dates.len()
                ),
                requirement: "one name per column and one value per date in each",
            });
        }
        Ok(Self {
            dates,
            names,
            columns,
            metadata,
        })
    }

    /// The matrix of a computed frame: the registry's columns, nulls and non-finite values
    /// turned into NaN, and the metadata of `panel`.
    pub(crate) fn from_frame(
        panel: &DailyPanel,
        df: &DataFrame,
        specs: Vec<FeatureSpec>,
    ) -> Result<Self> {
        let mut columns = Vec::with_capacity(specs.len());
        for s in &specs {
            let c = df.column(&s.name)?.cast(&DataType::Float64)?;
            let ca = c.f64()?;
            columns.push(
                ca.iter()
                    .map(|x| x.filter(|v| v.is_finite()).unwrap_or(f64::NAN))
                    .collect(),
            );
        }
        let dates = panel.dates().to_vec();
        let mut metadata = BTreeMap::new();
        metadata.insert(META_VERSION.to_owned(), feature_set_version());
        metadata.insert(META_SYMBOL.to_owned(), panel.symbol().to_owned());
        let sources = panel.sources();
        for family in Family::ALL {
            let mut used: Vec<Source> = specs
                .iter()
                .filter(|s| s.family == family)
                .flat_map(|s| s.inputs.iter().copied())
                .collect();
            used.sort();
            used.dedup();
            let text = if used.is_empty() {
                "calendar".to_owned()
            } else {
                used.iter()
                    .map(|u| {
                        format!(
                            "{}={}",
                            u.name(),
                            sources.get(u).copied().unwrap_or(Provenance::Missing)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            metadata.insert(format!("{META_PROVENANCE}{}", family.name()), text);
        }
        let [p1, p2] = panel.peer_names();
        metadata.insert(
            META_PEERS.to_owned(),
            format!("{},{}", p1.unwrap_or("none"), p2.unwrap_or("none")),
        );
        metadata.insert(
            META_MISSING_SESSIONS.to_owned(),
            panel.missing_sessions().len().to_string(),
        );
        let mut m = Self {
            dates,
            names: specs.into_iter().map(|s| s.name).collect(),
            columns,
            metadata,
        };
        m.set_range_metadata();
        Ok(m)
    }

    fn set_range_metadata(&mut self) {
        let fmt = |d: Option<&NaiveDate>| d.map_or_else(String::new, ToString::to_string);
        self.metadata
            .insert(META_START.to_owned(), fmt(self.dates.first()));
        self.metadata
            .insert(META_END.to_owned(), fmt(self.dates.last()));
    }

    /// The rows from `start` to `end` (both included); the range metadata follows.
    #[must_use]
    pub fn slice(&self, start: NaiveDate, end: NaiveDate) -> Self {
        let lo = self.dates.partition_point(|d| *d < start);
        let hi = self.dates.partition_point(|d| *d <= end).max(lo);
        let mut m = Self {
            dates: self.dates[lo..hi].to_vec(),
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c[lo..hi].to_vec()).collect(),
            metadata: self.metadata.clone(),
        };
        m.set_range_metadata();
        m
    }

    /// The dates (rows), ascending.
    #[must_use]
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// The feature names (columns), in registry order.
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// One feature's values by date, if the matrix has it.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|j| self.columns[j].as_slice())
    }

    /// One value: feature `name` on `date`.
    #[must_use]
    pub fn value(&self, name: &str, date: NaiveDate) -> Option<f64> {
        let i = self.dates.binary_search(&date).ok()?;
        self.column(name).map(|c| c[i])
    }

    /// The key-value metadata.
    #[must_use]
    pub const fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Share of NaN values over all cells (0 for an empty matrix).
    #[must_use]
    pub fn nan_share(&self) -> f64 {
        let cells = self.dates.len() * self.columns.len();
        if cells == 0 {
            return 0.0;
        }
        let nan: usize = self
            .columns
            .iter()
            .map(|c| c.iter().filter(|x| x.is_nan()).count())
            .sum();
        nan as f64 / cells as f64
    }

    fn to_dataframe(&self) -> Result<DataFrame> {
        let days: Vec<i32> = self
            .dates
            .iter()
            .map(|d| (*d - NaiveDate::default()).num_days() as i32)
            .collect();
        let mut cols: Vec<Column> = Vec::with_capacity(self.columns.len() + 1);
        cols.push(
            Series::new("date".into(), days)
                .cast(&DataType::Date)?
                .into(),
        );
        for (n, c) in self.names.iter().zip(&self.columns) {
            cols.push(Series::new(n.as_str().into(), c.as_slice()).into());
        }
        Ok(DataFrame::new(self.dates.len(), cols)?)
    }

    /// Writes the matrix as Parquet: a `date` column (Date) and one `Float64` column per
    /// feature, with the metadata as the file's key-value metadata.
    ///
    /// # Errors
    /// [`FeatureError::Io`] if the file cannot be created; [`FeatureError::Polars`] if
    /// writing fails.
    pub fn write_parquet(&self, path: &Path) -> Result<()> {
        let mut df = self.to_dataframe()?;
        let file = File::create(path).map_err(|source| FeatureError::Io {
            path: path.to_owned(),
            source,
        })?;
        let kv: Vec<(String, String)> = self
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ParquetWriter::new(file)
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(kv)))
            .finish(&mut df)?;
        Ok(())
    }

    /// Reads a matrix written by [`FeatureMatrix::write_parquet`], exactly (bit for bit).
    ///
    /// # Errors
    /// [`FeatureError::Io`] if the file cannot be opened; [`FeatureError::BadMatrixFile`] if it
    /// has no `date` column, a feature column that is not `Float64`, or no feature-set version
    /// in its metadata; [`FeatureError::Polars`] if reading fails.
    pub fn read_parquet(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|source| FeatureError::Io {
            path: path.to_owned(),
            source,
        })?;
        let bad = |reason: String| FeatureError::BadMatrixFile {
            path: path.to_owned(),
            reason,
        };
        let mut reader = ParquetReader::new(file);
        let metadata: BTreeMap<String, String> = reader
            .get_metadata()?
            .key_value_metadata()
            .iter()
            .flatten()
            // Polars adds the Arrow schema under `ARROW:schema`: not ours.
            .filter(|kv| !kv.key.starts_with("ARROW:"))
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
            .collect();
        if !metadata.contains_key(META_VERSION) {
            return Err(bad(format!("no {META_VERSION} in the file's metadata")));
        }
        let df = reader.finish()?;
        let date = df
            .column("date")
            .map_err(|_| bad("no `date` column".to_owned()))?
            .cast(&DataType::Int32)?;
        let epoch = NaiveDate::default();
        let dates = date
            .i32()?
            .iter()
            .map(|d| {
                d.and_then(|d| epoch.checked_add_signed(chrono::Duration::days(i64::from(d))))
                    .ok_or_else(|| bad("a null or out-of-range date".to_owned()))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut names = Vec::new();
        let mut columns = Vec::new();
        for c in df.columns() {
            if c.name().as_str() == "date" {
                continue;
            }
            let ca = c
                .f64()
                .map_err(|_| bad(format!("column {} is {}, not Float64", c.name(), c.dtype())))?;
            names.push(c.name().to_string());
            columns.push(ca.iter().map(|x| x.unwrap_or(f64::NAN)).collect());
        }
        Self::new(dates, names, columns, metadata)
    }
}
