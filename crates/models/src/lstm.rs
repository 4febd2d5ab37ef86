//! An LSTM classifier (candle-nn's `rnn::lstm`, one layer, CPU): it reads each sample's last
//! `sequence_length` sessions of features (built as [`crate::sequence`] says, never from a
//! later session) and gives the sigmoid of a linear head on the last hidden state.
//!
//! Training: `AdamW` on mini-batches, the numerically stable binary cross-entropy on logits
//! `relu(x) − x·y + ln(1 + e^−|x|)` (candle-nn's own loss takes the log of a sigmoid, which
//! overflows to infinity for confident wrong logits), early stopping on a validation window
//! (the best epoch's weights are kept), features standardised on the training rows only.
//! Reproducible: the weights are initialised and the batches shuffled from one seeded
//! generator (candle's CPU generator cannot be seeded, so it is not used), and candle's CPU
//! kernels are deterministic, so the same seed and data give bit-identical probabilities.
//! (Bit-identical for the same rows scored together: a row scored alone rather than in a
//! batch may differ in the last bits of its `f32` logit, about 1e-7, because it is then
//! summed in another order — by candle's kernels for another batch size, or by the plain
//! `f32` cell that scores up to 16 sequences without candle's per-operation overhead.)
//!
//! Saved as safetensors (the weights) plus a JSON sidecar ([`LstmMetadata`]), as
//! [`crate::GbmModel`] does.

use std::path::Path;
use std::sync::PoisonError;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::rnn::{LSTM, LSTMConfig, RNN};
use candle_nn::{AdamW, Init, Linear, Module, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::{Dataset, FeatureMatrix};
use crate::error::{ModelError, Result, candle};
use crate::evaluate::{Classifier, Learner, check_columns, check_rows, validation_split};
use crate::gbm::{DateRange, GbmModel};
use crate::logistic::{sigmoid, softplus};
use crate::metrics::Metrics;
use crate::sequence::{Sequences, Standardiser};

/// Version of the sidecar's layout; a loader refuses other versions.
pub const LSTM_METADATA_VERSION: u32 = 1;

/// Sequences scored per forward pass when predicting (bounds the memory of one pass).
const PREDICT_BATCH: usize = 1024;

/// Settings of the LSTM classifier.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LstmConfig {
    /// Sessions per sequence, the sample's own included: 20 (a trading month).
    pub sequence_length: usize,
    /// Size of the hidden (and cell) state: 32.
    pub hidden_size: usize,
    /// `AdamW`'s step size: 1e-3.
    pub learning_rate: f64,
    /// `AdamW`'s decoupled weight decay: 0.01 (its usual default).
    pub weight_decay: f64,
    /// Samples per mini-batch: 128.
    pub batch_size: usize,
    /// Passes over the training samples at most: 50.
    pub max_epochs: usize,
    /// Stop when the validation loss has not improved for this many epochs: 5.
    pub patience: usize,
    /// Seed of the initial weights and of the batch order.
    pub seed: u64,
}

impl Default for LstmConfig {
    fn default() -> Self {
        Self {
            sequence_length: 20,
            hidden_size: 32,
            learning_rate: 1e-3,
            weight_decay: 0.01,
            batch_size: 128,
            max_epochs: 50,
            patience: 5,
            seed: 17,
        }
    }
}

impl LstmConfig {
    fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("sequence_length", self.sequence_length),
            ("hidden_size", self.hidden_size),
            ("batch_size", self.batch_size),
            ("max_epochs", self.max_epochs),
            ("patience", self.patience),
        ] {
            if value == 0 {
                return Err(ModelError::InvalidConfig {
                    field,
                    value: value.to_string(),
                    requirement: "at least 1",
                });
            }
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(ModelError::InvalidConfig {
                field: "learning_rate",
                value: self.learning_rate.to_string(),
                requirement: "positive and finite",
            });
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(ModelError::InvalidConfig {
                field: "weight_decay",
                value: self.weight_decay.to_string(),
                requirement: "0 or positive, finite",
            });
        }
        Ok(())
    }
}

/// What a saved LSTM was trained on and how: the JSON sidecar beside the safetensors file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LstmMetadata {
    /// [`LSTM_METADATA_VERSION`] when written.
    pub metadata_version: u32,
    /// The feature columns, in the order the model reads them.
    pub feature_names: Vec<String>,
    /// The feature definitions' version (volta-features' `feature_set_version()`).
    pub feature_set_version: String,
    /// The settings it was trained with.
    pub config: LstmConfig,
    /// Per feature, the training mean subtracted before the network.
    pub feature_means: Vec<f64>,
    /// Per feature, the training standard deviation divided by (1 for a constant column).
    pub feature_scales: Vec<f64>,
    /// Decision dates of the training samples.
    pub training_range: DateRange,
    /// Decision dates of the validation (early-stopping) samples.
    pub validation_range: DateRange,
    /// Samples trained on.
    pub training_samples: usize,
    /// Validation samples.
    pub validation_samples: usize,
    /// [`Dataset::fingerprint`] of the training samples, then of the validation samples.
    pub data_fingerprints: [String; 2],
    /// Epochs run (early stopping included).
    pub epochs_run: usize,
    /// The epoch (1-based) whose weights were kept: the lowest validation loss.
    pub best_epoch: usize,
    /// Scores on the validation samples, with the kept weights.
    pub validation_metrics: Metrics,
}

/// The network: one LSTM layer and a linear head on its last hidden state.
struct Network {
    lstm: LSTM,
    head: Linear,
    /// Every weight, sorted by name (the order the seeded initialisation fills them in).
    vars: Vec<(String, Var)>,
    varmap: VarMap,
}

impl Network {
    /// A network with every weight 0 (to be initialised or loaded).
    fn new(inputs: usize, hidden: usize) -> Result<Self> {
        let build = candle("build the network");
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        // Constant initialisation: candle's CPU random generator cannot be seeded, so the
        // weights are filled from a seeded generator afterwards (`initialise`).
        let zero = Init::Const(0.0);
        let config = LSTMConfig {
            w_ih_init: zero,
            w_hh_init: zero,
            b_ih_init: Some(zero),
            b_hh_init: Some(zero),
            ..LSTMConfig::default()
        };
        let lstm = candle_nn::rnn::lstm(inputs, hidden, config, vb.pp("lstm")).map_err(build)?;
        let head_vb = vb.pp("head");
        let weight = head_vb
            .get_with_hints((1, hidden), "weight", zero)
            .map_err(candle("build the network"))?;
        let bias = head_vb
            .get_with_hints(1, "bias", zero)
            .map_err(candle("build the network"))?;
        let head = Linear::new(weight, Some(bias));
        let mut vars: Vec<(String, Var)> = varmap
            .data()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, var)| (name.clone(), var.clone()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Self {
            lstm,
            head,
            vars,
            varmap,
        })
    }

    /// Every weight uniform on ±1/√hidden (the initialisation of `torch.nn.LSTM` and `torch.nn.Linear`), drawn
    /// in name order from `rng`.
    fn initialise(&self, hidden: usize, rng: &mut ChaCha8Rng) -> Result<()> {
        let bound = 1.0 / (hidden as f32).sqrt();
        for (_, var) in &self.vars {
            let values: Vec<f32> = (0..var.elem_count())
                .map(|_| rng.random_range(-bound..bound))
                .collect();
            let tensor = Tensor::from_vec(values, var.shape(), &Device::Cpu)
                .map_err(candle("initialise"))?;
            var.set(&tensor).map_err(candle("initialise"))?;
        }
        Ok(())
    }

    /// Logits `[batch]` of sequences `x` `[batch, steps, features]`.
    fn logits(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let states = self.lstm.seq(x)?;
        let last = states
            .last()
            .ok_or_else(|| candle_core::Error::Msg("a sequence without steps".into()))?;
        self.head.forward(last.h())?.squeeze(1)
    }

    /// Copies of the current weights (name order).
    fn snapshot(&self) -> Result<Vec<Tensor>> {
        self.vars
            .iter()
            .map(|(_, var)| var.as_tensor().copy().map_err(candle("snapshot")))
            .collect()
    }

    fn restore(&self, snapshot: &[Tensor]) -> Result<()> {
        for ((_, var), tensor) in self.vars.iter().zip(snapshot) {
            var.set(tensor).map_err(candle("restore"))?;
        }
        Ok(())
    }

    /// Logits of every sequence of `sequences`, in order.
    fn predict(&self, sequences: &Sequences) -> Result<Vec<f32>> {
        let all: Vec<usize> = (0..sequences.len()).collect();
        let mut logits = Vec::with_capacity(all.len());
        let mut buffer = Vec::new();
        for chunk in all.chunks(PREDICT_BATCH) {
            let x = batch_tensor(sequences, chunk, &mut buffer)?;
            let out = self
                .logits(&x)
                .and_then(|z| z.to_vec1::<f32>())
                .map_err(candle("predict"))?;
            logits.extend(out);
        }
        Ok(logits)
    }
}

fn batch_tensor(sequences: &Sequences, which: &[usize], buffer: &mut Vec<f32>) -> Result<Tensor> {
    sequences.gather(which, buffer);
    Tensor::from_slice(
        buffer,
        (which.len(), sequences.length, sequences.width),
        &Device::Cpu,
    )
    .map_err(candle("batch"))
}

/// Up to this many sequences are scored by [`PlainLstm`] rather than candle: for a handful of
/// sequences candle's per-operation overhead (about 300 small tensor operations for 20 steps)
/// costs more than the arithmetic.
const PLAIN_UP_TO: usize = 16;

/// The trained network's weights as plain `f32` slices, for scoring a few sequences (one
/// decision) without candle: the same cell as candle-nn's `LSTM::step` (gates in, forget,
/// cell, out; Hochreiter & Schmidhuber 1997 with a forget gate, Gers et al. 2000), tested
/// against it. It sums in another order, so it agrees with candle to `f32` rounding, not to
/// the bit.
#[derive(Debug, Clone)]
struct PlainLstm {
    inputs: usize,
    hidden: usize,
    /// `4·hidden × inputs`, row-major (candle's `weight_ih_l0`).
    w_ih: Vec<f32>,
    /// `4·hidden × hidden`.
    w_hh: Vec<f32>,
    /// `bias_ih_l0 + bias_hh_l0`.
    bias: Vec<f32>,
    head_weight: Vec<f32>,
    head_bias: f32,
}

impl PlainLstm {
    fn of(network: &Network, inputs: usize, hidden: usize) -> Result<Self> {
        let get = |name: &str| -> Result<Vec<f32>> {
            let (_, var) = network
                .vars
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| ModelError::Candle {
                    operation: "read the weights",
                    source: candle_core::Error::Msg(format!("no weight `{name}`")),
                })?;
            var.as_tensor()
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(candle("read the weights"))
        };
        let (b_ih, b_hh) = (get("lstm.bias_ih_l0")?, get("lstm.bias_hh_l0")?);
        let head_bias = get("head.bias")?;
        Ok(Self {
            inputs,
            hidden,
            w_ih: get("lstm.weight_ih_l0")?,
            w_hh: get("lstm.weight_hh_l0")?,
            bias: b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect(),
            head_weight: get("head.weight")?,
            head_bias: head_bias.first().copied().unwrap_or(0.0),
        })
    }

    /// The logit of one sequence `x` (`steps × inputs`, oldest first).
    fn logit(&self, x: &[f32]) -> f32 {
        let (n, m) = (self.inputs, self.hidden);
        let (mut h, mut c, mut gates) = (vec![0.0_f32; m], vec![0.0_f32; m], vec![0.0_f32; 4 * m]);
        for step in x.chunks_exact(n) {
            for (g, gate) in gates.iter_mut().enumerate() {
                *gate = self.bias[g]
                    + dot(&self.w_ih[g * n..(g + 1) * n], step)
                    + dot(&self.w_hh[g * m..(g + 1) * m], &h);
            }
            for j in 0..m {
                let input = sigmoid_f32(gates[j]);
                let forget = sigmoid_f32(gates[m + j]);
                let cell = gates[2 * m + j].tanh();
                let output = sigmoid_f32(gates[3 * m + j]);
                c[j] = forget * c[j] + input * cell;
                h[j] = output * c[j].tanh();
            }
        }
        self.head_bias + dot(&self.head_weight, &h)
    }
}

/// Dot product with eight partial sums (so that the compiler can vectorise it).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut partial = [0.0_f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for k in 0..8 {
            partial[k] += x[k] * y[k];
        }
    }
    partial.iter().sum::<f32>() + tail
}

fn sigmoid_f32(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Mean binary cross-entropy of `logits` against `targets` (0 or 1), in the stable form
/// `relu(x) − x·y + ln(1 + e^−|x|)`.
fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let softplus_tail = logits.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    (logits.relu()? - (logits * targets)?)?
        .add(&softplus_tail)?
        .mean_all()
}

/// The same loss in `f64` (for early stopping): `softplus(x) − x·y`.
fn mean_log_loss(logits: &[f32], targets: &[bool]) -> f64 {
    let total: f64 = logits
        .iter()
        .zip(targets)
        .map(|(&z, &y)| {
            let z = f64::from(z);
            softplus(z) - if y { z } else { 0.0 }
        })
        .sum();
    total / logits.len() as f64
}

/// Initialises `network` from `config.seed` and trains it epoch by epoch on `fit` (sequences,
/// 0/1 targets) with early stopping on `validation`, leaving the best epoch's weights in it.
/// Returns the epochs run and the best epoch (1-based).
fn run_epochs(
    network: &Network,
    (fit_sequences, fit_targets): (&Sequences, &[f32]),
    (validation_sequences, validation_targets): (&Sequences, &[bool]),
    config: &LstmConfig,
) -> Result<(usize, usize)> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    network.initialise(config.hidden_size, &mut rng)?;
    let all_vars = network.vars.iter().map(|(_, var)| var.clone()).collect();
    let mut optimiser = AdamW::new(
        all_vars,
        ParamsAdamW {
            lr: config.learning_rate,
            weight_decay: config.weight_decay,
            ..ParamsAdamW::default()
        },
    )
    .map_err(candle("optimiser"))?;
    let mut order: Vec<usize> = (0..fit_sequences.len()).collect();
    let mut buffer = Vec::new();
    let (mut best_loss, mut best_epoch, mut best_weights) = (f64::INFINITY, 0, None);
    let mut epochs_run = 0;
    for epoch in 1..=config.max_epochs {
        epochs_run = epoch;
        order.shuffle(&mut rng);
        for batch in order.chunks(config.batch_size) {
            let x = batch_tensor(fit_sequences, batch, &mut buffer)?;
            let y = Tensor::from_iter(batch.iter().map(|&i| fit_targets[i]), &Device::Cpu)
                .map_err(candle("batch"))?;
            let step = network
                .logits(&x)
                .and_then(|logits| bce_with_logits(&logits, &y))
                .and_then(|loss| optimiser.backward_step(&loss));
            step.map_err(candle("train step"))?;
        }
        let loss = mean_log_loss(&network.predict(validation_sequences)?, validation_targets);
        if !loss.is_finite() {
            return Err(ModelError::BadValue {
                at: format!("LSTM epoch {epoch}"),
                reason: format!(
                    "validation loss {loss}: training diverged (lower the learning rate)"
                ),
            });
        }
        if loss < best_loss {
            (best_loss, best_epoch) = (loss, epoch);
            best_weights = Some(network.snapshot()?);
        } else if epoch - best_epoch >= config.patience {
            break;
        }
    }
    if let Some(weights) = &best_weights {
        network.restore(weights)?;
    }
    Ok((epochs_run, best_epoch))
}

/// A trained LSTM classifier with its standardisation and metadata.
pub struct LstmModel {
    network: Network,
    plain: PlainLstm,
    standardiser: Standardiser,
    metadata: LstmMetadata,
}

impl std::fmt::Debug for LstmModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LstmModel")
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

fn range_with_both_classes(data: &Dataset, rows: &[usize], what: &str) -> Result<DateRange> {
    let positives = rows
        .iter()
        .filter(|&&i| data.labels()[i].profitable())
        .count();
    match (rows.first(), rows.last()) {
        (Some(&first), Some(&last)) if positives > 0 && positives < rows.len() => Ok(DateRange {
            first: data.keys()[first].decision_date,
            last: data.keys()[last].decision_date,
        }),
        _ => Err(ModelError::NotEnoughData {
            what: format!(
                "the LSTM needs both classes in its {what} samples: {positives} of {} positive",
                rows.len()
            ),
        }),
    }
}

impl LstmModel {
    /// Trains on samples `fit_rows` of `data`, stopping early on the loss of samples
    /// `validation_rows` (which come after them in time, purged: [`Lstm`] carves them from a
    /// training window). Both index lists are ascending. Sequences read earlier rows of `data`
    /// (features only); standardisation is fitted on `fit_rows` alone.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] for a bad setting, [`ModelError::NotEnoughData`] when a
    /// set is empty or lacks a class, [`ModelError::Shape`] for an index out of range,
    /// [`ModelError::Candle`] when candle refuses.
    pub fn train(
        data: &Dataset,
        fit_rows: &[usize],
        validation_rows: &[usize],
        config: &LstmConfig,
    ) -> Result<Self> {
        config.validate()?;
        check_rows(data, fit_rows)?;
        check_rows(data, validation_rows)?;
        let training_range = range_with_both_classes(data, fit_rows, "training")?;
        let validation_range = range_with_both_classes(data, validation_rows, "validation")?;
        let matrix = data.matrix();
        let standardiser = Standardiser::fit(matrix, fit_rows);
        let length = config.sequence_length;
        let fit_sequences = Sequences::of_samples(data, fit_rows, length, &standardiser);
        let validation_sequences =
            Sequences::of_samples(data, validation_rows, length, &standardiser);
        let labels = data.labels();
        let fit_targets: Vec<f32> = fit_rows
            .iter()
            .map(|&i| f32::from(u8::from(labels[i].profitable())))
            .collect();
        let validation_targets: Vec<bool> = validation_rows
            .iter()
            .map(|&i| labels[i].profitable())
            .collect();

        let network = Network::new(matrix.n_features(), config.hidden_size)?;
        let (epochs_run, best_epoch) = run_epochs(
            &network,
            (&fit_sequences, &fit_targets),
            (&validation_sequences, &validation_targets),
            config,
        )?;
        let probabilities: Vec<f64> = network
            .predict(&validation_sequences)?
            .into_iter()
            .map(|z| sigmoid(f64::from(z)))
            .collect();
        let validation_metrics = Metrics::compute(&probabilities, &validation_targets)?;
        let plain = PlainLstm::of(&network, matrix.n_features(), config.hidden_size)?;
        Ok(Self {
            plain,
            metadata: LstmMetadata {
                metadata_version: LSTM_METADATA_VERSION,
                feature_names: matrix.names().to_vec(),
                feature_set_version: matrix.feature_set_version().to_owned(),
                config: *config,
                feature_means: standardiser.means.clone(),
                feature_scales: standardiser.scales.clone(),
                training_range,
                validation_range,
                training_samples: fit_rows.len(),
                validation_samples: validation_rows.len(),
                data_fingerprints: [
                    data.subset(fit_rows).fingerprint(),
                    data.subset(validation_rows).fingerprint(),
                ],
                epochs_run,
                best_epoch,
                validation_metrics,
            },
            network,
            standardiser,
        })
    }

    /// What the model was trained on and how.
    #[must_use]
    pub fn metadata(&self) -> &LstmMetadata {
        &self.metadata
    }

    /// The probability for the **last** row of `history`, whose rows are one series'
    /// consecutive sessions, oldest first (its last `sequence_length` rows are read, padding
    /// when there are fewer): scoring one decision with its features already computed.
    ///
    /// # Errors
    /// [`ModelError::BadValue`] for other columns, [`ModelError::NotEnoughData`] for an empty
    /// `history`, [`ModelError::Candle`] when candle refuses.
    pub fn score_sequence(&self, history: &FeatureMatrix) -> Result<f64> {
        check_columns(&self.metadata.feature_names, history)?;
        let rows = history.n_rows();
        if rows == 0 {
            return Err(ModelError::NotEnoughData {
                what: "an empty history to score".into(),
            });
        }
        let length = self.metadata.config.sequence_length;
        let recent: Vec<usize> = (rows.saturating_sub(length)..rows).collect();
        let sequences =
            Sequences::of_series(&history.select_rows(&recent), length, &self.standardiser);
        let mut x = Vec::new();
        sequences.gather(&[recent.len() - 1], &mut x);
        Ok(sigmoid(f64::from(self.plain.logit(&x))))
    }

    /// Writes the weights to `path` (safetensors) and the metadata to
    /// [`GbmModel::sidecar_path`] (`path` + `.meta.json`).
    ///
    /// # Errors
    /// [`ModelError::Candle`] when the weights cannot be written, [`ModelError::Io`] for the
    /// sidecar.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.network.varmap.save(path).map_err(candle("save"))?;
        crate::sidecar::write(path, &self.metadata)
    }

    /// Reads a model written by [`Self::save`]: the sidecar says the shape of the network,
    /// the safetensors file must hold every weight of that shape.
    ///
    /// # Errors
    /// [`ModelError::Io`] for a missing file, [`ModelError::BadModelFile`] for a sidecar of
    /// another layout version or one that does not match the weights, [`ModelError::Candle`]
    /// when candle cannot read them.
    pub fn load(path: &Path) -> Result<Self> {
        let metadata: LstmMetadata = crate::sidecar::read(
            path,
            |m: &LstmMetadata| m.metadata_version,
            LSTM_METADATA_VERSION,
        )?;
        let sidecar = GbmModel::sidecar_path(path);
        let bad = |reason: String| ModelError::BadModelFile {
            path: sidecar.clone(),
            reason,
        };
        let width = metadata.feature_names.len();
        if metadata.feature_means.len() != width || metadata.feature_scales.len() != width {
            return Err(bad(format!(
                "{width} features but {} means and {} scales",
                metadata.feature_means.len(),
                metadata.feature_scales.len()
            )));
        }
        metadata.config.validate()?;
        if !path.is_file() {
            return Err(ModelError::Io {
                path: path.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let mut network = Network::new(width, metadata.config.hidden_size)?;
        network
            .varmap
            .load(path)
            .map_err(|source| ModelError::BadModelFile {
                path: path.to_owned(),
                reason: format!("weights do not fit the sidecar's network: {source}"),
            })?;
        let plain = PlainLstm::of(&network, width, metadata.config.hidden_size)?;
        Ok(Self {
            plain,
            standardiser: Standardiser {
                means: metadata.feature_means.clone(),
                scales: metadata.feature_scales.clone(),
            },
            network,
            metadata,
        })
    }

    /// Probabilities of every sequence: by [`PlainLstm`] for a few, by candle in batches
    /// otherwise.
    fn probabilities(&self, sequences: &Sequences) -> Result<Vec<f64>> {
        let logits = if sequences.len() <= PLAIN_UP_TO {
            let mut x = Vec::new();
            (0..sequences.len())
                .map(|k| {
                    sequences.gather(&[k], &mut x);
                    self.plain.logit(&x)
                })
                .collect()
        } else {
            self.network.predict(sequences)?
        };
        Ok(logits.into_iter().map(|z| sigmoid(f64::from(z))).collect())
    }
}

impl Classifier for LstmModel {
    /// Without sample keys, the rows of `matrix` are taken as consecutive sessions of one
    /// series, oldest first: row `i`'s sequence is rows `i − sequence_length + 1 ..= i`.
    /// Score samples of a [`Dataset`] with [`Classifier::predict_samples`], which builds each
    /// sequence from its candidate's or its sessions' history.
    fn predict_proba(&self, matrix: &FeatureMatrix) -> Result<Vec<f64>> {
        check_columns(&self.metadata.feature_names, matrix)?;
        self.probabilities(&Sequences::of_series(
            matrix,
            self.metadata.config.sequence_length,
            &self.standardiser,
        ))
    }

    fn predict_samples(&self, dataset: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        check_columns(&self.metadata.feature_names, dataset.matrix())?;
        check_rows(dataset, rows)?;
        self.probabilities(&Sequences::of_samples(
            dataset,
            rows,
            self.metadata.config.sequence_length,
            &self.standardiser,
        ))
    }
}

/// Learns an [`LstmModel`] from one training set (the learner for
/// [`crate::evaluate_walk_forward`]): the last `validation_sessions` decision sessions become
/// the early-stopping set, the samples before them — purged of labels reaching into it — the
/// training set.
///
/// ```
/// use chrono::{Days, NaiveDate};
/// use volta_models::{
///     Classifier, Dataset, FeatureMatrix, Label, LabelHorizon, Learner, Lstm, LstmConfig,
///     SampleKey,
/// };
///
/// # fn main() -> Result<(), volta_models::ModelError> {
/// // One candidate a day for 200 sessions; the trade pays when yesterday's `x` was positive:
/// // only a model that reads the history can know.
/// let start = NaiveDate::from_ymd_opt(2022, 1, 3).unwrap();
/// let x = |i: u64| ((i * 7919) % 1000) as f64 / 500.0 - 1.0;
/// let (mut keys, mut labels) = (Vec::new(), Vec::new());
/// for i in 0..200 {
///     let decided = start + Days::new(i);
///     keys.push(SampleKey { decision_date: decided, candidate: "SPY 30d".into() });
///     let paid = i > 0 && x(i - 1) > 0.0;
///     let horizon = LabelHorizon::try_new(decided, decided + Days::new(2))?;
///     labels.push(Label::from_return_on_risk(horizon, if paid { 0.2 } else { -0.2 })?);
/// }
/// let values = (0..200).map(x).collect();
/// let data = Dataset::try_new(FeatureMatrix::try_new(vec!["x".into()], "1", values)?, keys, labels)?;
///
/// let config = LstmConfig { sequence_length: 3, hidden_size: 8, learning_rate: 0.01, ..LstmConfig::default() };
/// let train: Vec<usize> = (0..150).collect();
/// let model = Lstm { config, validation_sessions: 30 }.fit(&data.subset(&train))?;
/// // Scored with the whole data set: each test sample's sequence reads the sessions before it.
/// let test: Vec<usize> = (150..200).collect();
/// let probabilities = model.predict_samples(&data, &test)?;
/// let auc = volta_models::roc_auc(&probabilities, &data.subset(&test).targets())?;
/// assert!(auc > 0.9, "AUC {auc}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lstm {
    /// The network's and the training's settings.
    pub config: LstmConfig,
    /// Sessions at the end of each training set kept for early stopping: 63, a quarter.
    pub validation_sessions: usize,
}

impl Default for Lstm {
    fn default() -> Self {
        Self {
            config: LstmConfig::default(),
            validation_sessions: 63,
        }
    }
}

impl Learner for Lstm {
    type Model = LstmModel;

    fn fit(&self, train: &Dataset) -> Result<LstmModel> {
        let all: Vec<usize> = (0..train.len()).collect();
        let (fit_on, validation) = validation_split(train, &all, self.validation_sessions)
            .ok_or_else(|| ModelError::NotEnoughData {
                what: format!(
                    "LSTM: fewer than {} sessions to leave an early-stopping window",
                    self.validation_sessions
                ),
            })?;
        LstmModel::train(train, &fit_on, &validation, &self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loss_is_finite_for_confident_wrong_logits_and_matches_the_f64_form() {
        let logits = Tensor::new(&[-200.0_f32, 0.0, 3.0, 200.0], &Device::Cpu).unwrap();
        let targets = Tensor::new(&[1.0_f32, 0.0, 1.0, 0.0], &Device::Cpu).unwrap();
        let loss = bce_with_logits(&logits, &targets)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        // (200 + ln 2 + ln(1 + e^-3) + 200) / 4.
        let expected = (400.0 + 2.0_f64.ln() + (-3.0_f64).exp().ln_1p()) / 4.0;
        assert!(
            (f64::from(loss) - expected).abs() < 1e-4,
            "{loss} vs {expected}"
        );
        let f64_loss = mean_log_loss(&[-200.0, 0.0, 3.0, 200.0], &[true, false, true, false]);
        assert!((f64_loss - expected).abs() < 1e-12);
    }

    #[test]
    fn the_plain_cell_agrees_with_candle() {
        let (inputs, hidden, steps, batch) = (7, 5, 4, 9);
        let network = Network::new(inputs, hidden).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        network.initialise(hidden, &mut rng).unwrap();
        // Larger weights than the initialisation, so that the gates saturate somewhere.
        for (_, var) in &network.vars {
            let scaled = (var.as_tensor() * 3.0).unwrap();
            var.set(&scaled).unwrap();
        }
        let plain = PlainLstm::of(&network, inputs, hidden).unwrap();
        let x: Vec<f32> = (0..batch * steps * inputs)
            .map(|_| rng.random_range(-2.0..2.0))
            .collect();
        let tensor = Tensor::from_slice(&x, (batch, steps, inputs), &Device::Cpu).unwrap();
        let reference = network.logits(&tensor).unwrap().to_vec1::<f32>().unwrap();
        for (sequence, expected) in x.chunks_exact(steps * inputs).zip(&reference) {
            let logit = plain.logit(sequence);
            assert!((logit - expected).abs() < 1e-5, "{logit} vs {expected}");
        }
        assert!(reference.iter().any(|z| z.abs() > 0.5), "{reference:?}");
    }

    #[test]
    fn settings_out_of_their_domain_are_refused() {
        let bad = |config: LstmConfig| config.validate().unwrap_err().to_string();
        assert!(
            bad(LstmConfig {
                sequence_length: 0,
                ..LstmConfig::default()
            })
            .contains("`sequence_length` = 0")
        );
        assert!(
            bad(LstmConfig {
                learning_rate: f64::NAN,
                ..LstmConfig::default()
            })
            .contains("`learning_rate`")
        );
        assert!(LstmConfig::default().validate().is_ok());
    }
}
