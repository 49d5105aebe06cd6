//! The abm domain, pure: the types every other crate speaks (accounts, contacts, leads,
//! activities, intent signals, opportunities), the newtypes that make a value that exists a
//! valid one, the parsing of the raw values found in files, and identity resolution.
//!
//! Invariant: this crate does no I/O, spawns no thread, reads no clock, no environment and no
//! random source. Time, ids, configuration and data are passed in.

pub mod cluster;
pub mod entity;
pub mod identity;
pub mod next_action;
pub mod persona;
pub mod personalize;
pub mod plan;
pub mod play;
pub mod report;
pub mod reverse_ip;
pub mod score;
pub mod tal;
pub mod tracking;
pub mod trigger;
pub mod value;
pub mod why;

pub use entity::*;
pub use value::{
    ActivityId, CrmId, Domain, Email, LawfulBasis, Score, Topic, ValueError, parse_bool,
    parse_count, parse_date, parse_money, parse_timestamp,
};
