//! The running system of abm: what happens between the store and the user. This part
//! is scoring — a full recompute of every account, a rescore of the accounts an import
//! touched, and the backtest that replays history to see how well a scoring setup would
//! have predicted pipeline.
//!
//! Invariants: the engine decides nothing itself (every rule is in `abm-core`) and reads no
//! clock (the instant to score as of is passed in); it reads and writes only through the
//! `abm_store::Store` interface, so both backends behave the same.

pub mod backtest;
pub mod csv_lines;
pub mod plays;
pub mod report_tables;
pub mod reports;
pub mod reverse_ip;
pub mod scoring;
pub mod stream;
pub mod team;
pub mod tracking;
pub mod tune;

pub use scoring::{Keep, ScoredAccount, Scoring, compute, rescore};
