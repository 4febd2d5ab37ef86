//! Batch pricer for researchers: CSV on stdin, CSV on stdout.
//!
//! ```text
//! cargo run --release -p volta-pricing --example price_csv < options.csv > priced.csv
//! cargo run --release -p volta-pricing --example price_csv -- --implied < quotes.csv
//! ```
//!
//! Input header (any column order, extra columns are passed through):
//! `model,right,spot,strike,years,rate,dividend_yield,vol`
//! - `model`: `bsm` (Black-Scholes-Merton), `black76` (`spot` is the forward; `dividend_yield`
//!   is not used), `baw` (Barone-Adesi-Whaley), `bjs2002` (Bjerksund-Stensland 2002),
//!   `lattice` (Leisen-Reimer binomial, `--steps N`, default 501).
//! - `right`: `call` or `put`.
//! - numbers per 1.0: years, continuously compounded rate and yield, volatility.
//!
//! Output: the input columns, then `price,delta,gamma,vega,theta,rho,error` (per-1.0 units,
//! theta per year). `error` is empty when the row priced, else the reason, with the other
//! outputs empty.
//!
//! With `--implied` the input has `price` in place of `vol` and the output adds `vol,error`.
//!
//! A malformed file (a missing column, a field that is not a number, an unknown model or right)
//! stops the program before anything is written, with a message naming the line and column, and
//! exit code 2. Rows whose numbers are out of domain (a negative strike, a price above its
//! no-arbitrage bound) are reported in their `error` column instead.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use volta_pricing::american::{self, AmericanModel};
use volta_pricing::{FuturesOption, Greeks, OptionRight, PricingError, Vanilla, black76, bsm};

/// Default number of lattice steps (odd, as Leisen-Reimer needs).
const DEFAULT_LATTICE_STEPS: usize = 501;

/// What went wrong, with enough context for the user to find it in their file.
#[derive(Debug)]
enum CliError {
    Usage(String),
    MissingColumn(&'static str),
    Malformed {
        line: u64,
        column: usize,
        name: &'static str,
        message: String,
    },
    Csv(csv::Error),
    Io(io::Error),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Usage(m) => write!(
                f,
                "{m}\nusage: price_csv [--implied] [--steps N] < in.csv > out.csv"
            ),
            Self::MissingColumn(c) => write!(f, "line 1: the header has no `{c}` column"),
            Self::Malformed {
                line,
                column,
                name,
                message,
            } => {
                write!(f, "line {line}, column {column} (`{name}`): {message}")
            }
            Self::Csv(e) => write!(f, "malformed CSV: {e}"),
            Self::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

impl From<csv::Error> for CliError {
    fn from(e: csv::Error) -> Self {
        if let csv::ErrorKind::Io(io) = e.kind() {
            // Keep the I/O kind (a closed pipe is not a malformed file).
            return Self::Io(io::Error::new(io.kind(), io.to_string()));
        }
        Self::Csv(e)
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Command-line options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    implied: bool,
    lattice_steps: usize,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, CliError> {
    let mut options = Options {
        implied: false,
        lattice_steps: DEFAULT_LATTICE_STEPS,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--implied" => options.implied = true,
            "--steps" => {
                let value = args
                    .next()
                    .ok_or_else(|| CliError::Usage("--steps needs a value".into()))?;
                options.lattice_steps = value.parse().map_err(|_| {
                    CliError::Usage(format!("--steps: `{value}` is not a positive integer"))
                })?;
            }
            "-h" | "--help" => return Err(CliError::Usage("prices options from CSV".into())),
            other => return Err(CliError::Usage(format!("unknown argument `{other}`"))),
        }
    }
    Ok(options)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    Bsm,
    Black76,
    American(AmericanModel),
}

/// One parsed input row. `input` is `vol` when pricing and `price` with `--implied`.
#[derive(Debug, Clone, Copy)]
struct Row {
    model: Model,
    right: OptionRight,
    spot: f64,
    strike: f64,
    years: f64,
    rate: f64,
    dividend_yield: f64,
    input: f64,
}

/// Where each required column is in the header.
struct Columns {
    model: usize,
    right: usize,
    numbers: [(usize, &'static str); 6],
}

impl Columns {
    fn find(header: &csv::StringRecord, implied: bool) -> Result<Self, CliError> {
        let index = |name: &'static str| {
            header
                .iter()
                .position(|h| h.trim() == name)
                .ok_or(CliError::MissingColumn(name))
        };
        let last = if implied { "price" } else { "vol" };
        Ok(Self {
            model: index("model")?,
            right: index("right")?,
            numbers: [
                (index("spot")?, "spot"),
                (index("strike")?, "strike"),
                (index("years")?, "years"),
                (index("rate")?, "rate"),
                (index("dividend_yield")?, "dividend_yield"),
                (index(last)?, last),
            ],
        })
    }

    fn parse(
        &self,
        record: &csv::StringRecord,
        line: u64,
        options: &Options,
    ) -> Result<Row, CliError> {
        let field = |column: usize, name: &'static str| {
            record
                .get(column)
                .map(str::trim)
                .ok_or_else(|| CliError::Malformed {
                    line,
                    column: column + 1,
                    name,
                    message: "the field is missing".into(),
                })
        };
        let malformed = |column: usize, name: &'static str, message: String| CliError::Malformed {
            line,
            column: column + 1,
            name,
            message,
        };
        let model_text = field(self.model, "model")?;
        let model = match model_text.to_ascii_lowercase().as_str() {
            "bsm" => Model::Bsm,
            "black76" => Model::Black76,
            "baw" => Model::American(AmericanModel::BaroneAdesiWhaley),
            "bjs2002" => Model::American(AmericanModel::BjerksundStensland2002),
            "lattice" => Model::American(AmericanModel::Lattice {
                steps: options.lattice_steps,
            }),
            _ => {
                return Err(malformed(
                    self.model,
                    "model",
                    format!("unknown model `{model_text}` (bsm, black76, baw, bjs2002, lattice)"),
                ));
            }
        };
        let right_text = field(self.right, "right")?;
        let right = right_text.parse::<OptionRight>().map_err(|_| {
            malformed(
                self.right,
                "right",
                format!("unknown right `{right_text}` (call, put)"),
            )
        })?;
        let mut numbers = [0.0; 6];
        for (slot, &(column, name)) in numbers.iter_mut().zip(&self.numbers) {
            let text = field(column, name)?;
            *slot = text
                .parse::<f64>()
                .map_err(|_| malformed(column, name, format!("`{text}` is not a number")))?;
        }
        let [spot, strike, years, rate, dividend_yield, input] = numbers;
        Ok(Row {
            model,
            right,
            spot,
            strike,
            years,
            rate,
            dividend_yield,
            input,
        })
    }
}

impl Row {
    fn vanilla(&self) -> Vanilla {
        Vanilla {
            right: self.right,
            spot: self.spot,
            strike: self.strike,
            years: self.years,
            rate: self.rate,
            dividend_yield: self.dividend_yield,
        }
    }

    fn futures(&self) -> FuturesOption {
        FuturesOption {
            right: self.right,
            forward: self.spot,
            strike: self.strike,
            years: self.years,
            rate: self.rate,
        }
    }

    fn greeks(&self) -> Result<Greeks, PricingError> {
        match self.model {
            Model::Bsm => bsm::greeks(&self.vanilla(), self.input),
            Model::Black76 => black76::greeks(&self.futures(), self.input),
            Model::American(model) => american::greeks(model, &self.vanilla(), self.input),
        }
    }

    fn implied_vol(&self) -> Result<f64, PricingError> {
        match self.model {
            Model::Bsm => bsm::implied_vol(&self.vanilla(), self.input),
            Model::Black76 => black76::implied_vol(&self.futures(), self.input),
            Model::American(model) => {
                american::implied_vol_with(model, &self.vanilla(), self.input)
            }
        }
    }
}

/// Reads every row (stopping at the first malformed one), then prices them all and writes the
/// output. Returns the number of rows written.
fn run(input: impl Read, output: impl Write, options: &Options) -> Result<usize, CliError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let header = reader.headers()?.clone();
    let columns = Columns::find(&header, options.implied)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, csv::Position::line);
        let row = columns.parse(&record, line, options)?;
        rows.push((record, row));
    }

    let mut writer = csv::Writer::from_writer(output);
    let extra: &[&str] = if options.implied {
        &["vol", "error"]
    } else {
        &["price", "delta", "gamma", "vega", "theta", "rho", "error"]
    };
    writer.write_record(header.iter().chain(extra.iter().copied()))?;
    let mut out: Vec<String> = Vec::with_capacity(extra.len());
    for (record, row) in &rows {
        out.clear();
        if options.implied {
            match row.implied_vol() {
                Ok(vol) => out.extend([vol.to_string(), String::new()]),
                Err(e) => out.extend([String::new(), e.to_string()]),
            }
        } else {
            match row.greeks() {
                Ok(g) => {
                    out.extend(
                        [g.price, g.delta, g.gamma, g.vega, g.theta, g.rho].map(|x| x.to_string()),
                    );
                    out.push(String::new());
                }
                Err(e) => {
                    out.extend(std::iter::repeat_n(String::new(), 6));
                    out.push(e.to_string());
                }
            }
        }
        writer.write_record(record.iter().chain(out.iter().map(String::as_str)))?;
    }
    writer.flush()?;
    Ok(rows.len())
}

fn main() -> ExitCode {
    let result = parse_args(std::env::args().skip(1))
        .and_then(|options| run(io::stdin().lock(), io::stdout().lock(), &options));
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(CliError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("price_csv: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(input: &str, args: &[&str]) -> Result<String, CliError> {
        let options = parse_args(args.iter().map(ToString::to_string))?;
        let mut out = Vec::new();
        run(input.as_bytes(), &mut out, &options)?;
        Ok(String::from_utf8(out).expect("csv output is UTF-8"))
    }

    fn field<'a>(csv: &'a str, line: usize, name: &str) -> &'a str {
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let row: Vec<&str> = csv.lines().nth(line).expect("row").split(',').collect();
        let at = header.iter().position(|h| *h == name).expect("column");
        row[at]
    }

    const HEADER: &str = "model,right,spot,strike,years,rate,dividend_yield,vol\n";

    #[test]
    fn prices_hulls_example_with_every_output_column() {
        // Hull, Options, Futures and Other Derivatives, Example 15.6: c = 4.76, p = 0.81.
        let out = price(
            &format!("{HEADER}bsm,call,42,40,0.5,0.1,0,0.2\nbsm,put,42,40,0.5,0.1,0,0.2\n"),
            &[],
        )
        .expect("prices");
        assert!(out.starts_with("model,right,spot,strike,years,rate,dividend_yield,vol,price,delta,gamma,vega,theta,rho,error\n"));
        let call: f64 = field(&out, 1, "price").parse().expect("number");
        let put: f64 = field(&out, 2, "price").parse().expect("number");
        assert!(
            (call - 4.7594).abs() < 5e-5 && (put - 0.8086).abs() < 5e-5,
            "{call} {put}"
        );
        assert_eq!(field(&out, 1, "error"), "");
    }

    #[test]
    fn black76_reads_spot_as_the_forward() {
        // Haug 2007, §1.1.5: F = 19, K = 19, T = 0.75, r = 10 %, σ = 28 %: c = p = 1.7011.
        let out =
            price(&format!("{HEADER}black76,put,19,19,0.75,0.1,0,0.28\n"), &[]).expect("prices");
        let put: f64 = field(&out, 1, "price").parse().expect("number");
        assert!((put - 1.7011).abs() < 5e-5, "{put}");
    }

    #[test]
    fn out_of_domain_rows_fill_the_error_column_and_leave_outputs_empty() {
        let out = price(
            &format!("{HEADER}bsm,call,100,-5,1,0.05,0.01,0.2\nbsm,call,100,100,1,0.05,0.01,0.2\n"),
            &[],
        )
        .expect("a domain error is not a malformed file");
        assert!(field(&out, 1, "error").contains("strike"), "{out}");
        assert_eq!(field(&out, 1, "price"), "");
        assert_eq!(field(&out, 2, "error"), "");
    }

    #[test]
    fn implied_mode_recovers_the_volatility() {
        let vanilla =
            Vanilla::try_new(OptionRight::Put, 100.0, 90.0, 0.25, 0.03, 0.015).expect("valid");
        let premium = bsm::price(&vanilla, 0.31).expect("prices");
        let input = format!(
            "model,right,spot,strike,years,rate,dividend_yield,price\nbsm,put,100,90,0.25,0.03,0.015,{premium}\nbsm,put,100,90,0.25,0.03,0.015,95\n"
        );
        let out = price(&input, &["--implied"]).expect("solves");
        assert!(
            out.starts_with("model,right,spot,strike,years,rate,dividend_yield,price,vol,error\n")
        );
        let vol: f64 = field(&out, 1, "vol").parse().expect("number");
        assert!((vol - 0.31).abs() < 1e-12, "{vol}");
        assert!(field(&out, 2, "error").contains("upper bound"), "{out}");
    }

    #[test]
    fn a_missing_column_is_named() {
        let err = price(
            "model,right,spot,strike,years,rate,vol\nbsm,call,1,1,1,0,0.2\n",
            &[],
        )
        .expect_err("malformed");
        assert_eq!(
            err.to_string(),
            "line 1: the header has no `dividend_yield` column"
        );
    }

    #[test]
    fn a_non_number_names_its_line_and_column() {
        let input =
            format!("{HEADER}bsm,call,100,100,1,0.05,0.01,0.2\nbsm,call,100,abc,1,0.05,0.01,0.2\n");
        let err = price(&input, &[]).expect_err("malformed");
        assert_eq!(
            err.to_string(),
            "line 3, column 4 (`strike`): `abc` is not a number"
        );
    }

    #[test]
    fn an_unknown_model_or_right_stops_the_run() {
        let err = price(
            &format!("{HEADER}heston,call,100,100,1,0.05,0.01,0.2\n"),
            &[],
        )
        .expect_err("malformed");
        assert!(
            err.to_string()
                .starts_with("line 2, column 1 (`model`): unknown model `heston`"),
            "{err}"
        );
        let err = price(
            &format!("{HEADER}bsm,straddle,100,100,1,0.05,0.01,0.2\n"),
            &[],
        )
        .expect_err("malformed");
        assert!(
            err.to_string().starts_with("line 2, column 2 (`right`)"),
            "{err}"
        );
    }

    #[test]
    fn a_truncated_row_is_malformed() {
        let err = price(&format!("{HEADER}bsm,call,100,100\n"), &[]).expect_err("malformed");
        assert!(
            matches!(err, CliError::Csv(_) | CliError::Malformed { .. }),
            "{err}"
        );
    }

    #[test]
    fn american_models_price_at_least_the_european_value() {
        let input = format!(
            "{HEADER}bsm,put,100,110,1,0.06,0.02,0.25\nbaw,put,100,110,1,0.06,0.02,0.25\nbjs2002,put,100,110,1,0.06,0.02,0.25\nlattice,put,100,110,1,0.06,0.02,0.25\n"
        );
        let out = price(&input, &["--steps", "301"]).expect("prices");
        let european: f64 = field(&out, 1, "price").parse().expect("number");
        for line in 2..=4 {
            let american: f64 = field(&out, line, "price").parse().expect("number");
            assert!(
                american > european + 0.05,
                "line {line}: {american} vs {european}"
            );
        }
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        assert!(matches!(
            parse_args(["--steps".to_string()]),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            parse_args(["--frobnicate".to_string()]),
            Err(CliError::Usage(_))
        ));
    }
}
