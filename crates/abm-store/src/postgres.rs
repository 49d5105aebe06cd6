//! The PostgreSQL backend (being written).
#![allow(unused)]
use crate::*;
pub struct PostgresStore;
impl PostgresStore { pub fn open(_url: &str) -> Result<Self> { Err(StoreError::UnsupportedUrl(String::new())) } }
impl Store for PostgresStore {
    fn backend(&self) -> Backend { Backend::Postgres }
    fn counts(&mut self) -> Result<Counts> { unimplemented!() }
    fn top_unmatched_domains(&mut self, _limit: u32) -> Result<Vec<UnmatchedDomain>> { unimplemented!() }
    fn identity_index(&mut self) -> Result<abm_core::identity::IdentityIndex> { unimplemented!() }
    fn account_by_domain(&mut self, _d: &Domain) -> Result<Option<(AccountId, Account)>> { unimplemented!() }
    fn activity_count_for(&mut self, _a: AccountId) -> Result<u64> { unimplemented!() }
    fn begin_import(&mut self, _r: &ImportRecord) -> Result<Box<dyn ImportTransaction + '_>> { unimplemented!() }
}
