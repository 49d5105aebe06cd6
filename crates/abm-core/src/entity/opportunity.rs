//! Opportunity: a deal in the CRM, the pipeline abm is measured by.

use super::keep_if_none;
use crate::value::{CrmId, Domain, ValueError};
use jiff::civil::Date;

/// A deal. It belongs to an account found by the account's CRM id or by domain; until that
/// account is known the opportunity is kept unmatched.
#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    pub crm_id: CrmId,
    pub account_crm_id: Option<CrmId>,
    pub account_domain: Option<crate::value::Domain>,
    pub name: Option<String>,
    pub amount: Option<f64>,
    pub stage: Option<String>,
    pub created_on: Date,
    pub close_date: Option<Date>,
    pub closed: bool,
    pub won: bool,
}

impl Opportunity {
    /// Checks the rules between fields: a deal that is won is closed, and a deal closes no
    /// earlier than it was created.
    pub fn validate(&self) -> Result<(), (&'static str, ValueError)> {
        if self.won && !self.closed {
            return Err((
                "won",
                ValueError::new("a won opportunity must also be closed"),
            ));
        }
        if let Some(close) = self.close_date
            && close < self.created_on
        {
            return Err((
                "close_date",
                ValueError::new("close date is before the created date"),
            ));
        }
        if self.account_crm_id.is_none() && self.account_domain.is_none() {
            return Err((
                "account_crm_id",
                ValueError::new("an opportunity needs its account's CRM id or domain"),
            ));
        }
        Ok(())
    }

    pub fn merged_over(mut self, stored: &Opportunity) -> Opportunity {
        keep_if_none(&mut self.account_crm_id, &stored.account_crm_id);
        keep_if_none::<Domain>(&mut self.account_domain, &stored.account_domain);
        keep_if_none(&mut self.name, &stored.name);
        keep_if_none(&mut self.amount, &stored.amount);
        keep_if_none(&mut self.stage, &stored.stage);
        keep_if_none(&mut self.close_date, &stored.close_date);
        self
    }
}
