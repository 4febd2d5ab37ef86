//! The [`Strategy`] trait: what every strategy, the adaptive one included, answers at a
//! decision time.

use std::fmt;

use crate::error::Result;
use crate::exit::ExitRules;
use crate::manage::closing_proposals;
use crate::proposal::Proposal;
use crate::structures::Pricing;
use crate::view::MarketView;

/// A strategy: from what is known at a decision time, the combos to open (and, through
/// [`Strategy::manage`], the held ones to close).
pub trait Strategy: fmt::Debug + Send + Sync {
    /// The name its positions are tagged with (unique in a configuration).
    fn name(&self) -> &str;

    /// The opening proposals for this decision time, over every underlying of the view.
    ///
    /// # Errors
    /// Only if a combo cannot be built from listed contracts.
    fn propose(&self, view: &MarketView) -> Result<Vec<Proposal>>;

    /// The exit rules of positions tagged `strategy`, if this strategy (or one of its
    /// members) opened them.
    fn exit_rules(&self, strategy: &str) -> Option<ExitRules>;

    /// The closing proposals for the positions of the view this strategy owns whose exit rule
    /// fires now (see [`closing_proposals`]).
    ///
    /// # Errors
    /// As [`closing_proposals`].
    fn manage(&self, view: &MarketView) -> Result<Vec<Proposal>> {
        closing_proposals(view, &|s| self.exit_rules(s), Pricing::default())
    }
}
