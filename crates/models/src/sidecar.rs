//! The JSON sidecar beside a saved model (`model.txt` → `model.txt.meta.json`): its metadata,
//! written and read back the same way for every kind of model.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ModelError, Result};
use crate::gbm::GbmModel;

/// Writes `metadata` as pretty JSON beside the model file `model_path`.
pub(crate) fn write<T: Serialize>(model_path: &Path, metadata: &T) -> Result<()> {
    let sidecar = GbmModel::sidecar_path(model_path);
    let json =
        serde_json::to_string_pretty(metadata).map_err(|source| ModelError::BadModelFile {
            path: sidecar.clone(),
            reason: source.to_string(),
        })?;
    std::fs::write(&sidecar, json).map_err(|source| ModelError::Io {
        path: sidecar,
        source,
    })
}

/// Reads the metadata beside `model_path`, refusing a layout other than `expected`
/// (`version_of` tells a metadata's layout version).
pub(crate) fn read<T: DeserializeOwned>(
    model_path: &Path,
    version_of: impl Fn(&T) -> u32,
    expected: u32,
) -> Result<T> {
    let sidecar = GbmModel::sidecar_path(model_path);
    let json = std::fs::read_to_string(&sidecar).map_err(|source| ModelError::Io {
        path: sidecar.clone(),
        source,
    })?;
    let bad = |reason: String| ModelError::BadModelFile {
        path: sidecar.clone(),
        reason,
    };
    let metadata: T = serde_json::from_str(&json).map_err(|e| bad(e.to_string()))?;
    let found = version_of(&metadata);
    if found != expected {
        return Err(bad(format!(
            "metadata version {found}, this build reads {expected}"
        )));
    }
    Ok(metadata)
}
