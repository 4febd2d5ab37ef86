//! `volta-data init`: create the store, or bring an existing one to the current schema.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use volta_data::store::SCHEMA_VERSION;

use crate::common::{open_store, shown};

pub(crate) fn run(store: &Path) -> Result<ExitCode> {
    let opened = open_store(store)?;
    println!(
        "store {} ready: schema version {} (this build: {SCHEMA_VERSION})",
        shown(store),
        opened.schema_version()?
    );
    Ok(ExitCode::SUCCESS)
}
