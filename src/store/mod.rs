//! The organisation's carbon ledger: every counted run once, in SQLite (embedded, the default)
//! or PostgreSQL (shared), with the checks that wrote them.

pub mod from_record;
pub mod run;

pub use run::{CheckEvent, Merge, StoredRun};
