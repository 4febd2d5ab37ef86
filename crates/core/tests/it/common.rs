//! The real-data folder for volta-core's own tests. volta-core sits below volta-data, so it
//! cannot use `volta_data::DataDir::test_file`; this is a minimal copy of its rule, used by no
//! other crate (every crate above volta-core uses `DataDir`).

use std::path::PathBuf;

/// `$VOLTA_DATA_DIR`, or `../../../shared/data` relative to this crate's manifest. `None`
/// (with a message) when the file is missing outside CI; a panic when `CI=true`.
pub(crate) fn data_file(relative: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("VOLTA_DATA_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    let path = dir.join(relative);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "data file {} is missing (set VOLTA_DATA_DIR)",
        path.display()
    );
    eprintln!(
        "skipped: data file {} is missing (set VOLTA_DATA_DIR)",
        path.display()
    );
    None
}
