//! Small textual newtypes: identifiers from other systems, intent topics, 0–100 scores and
//! the lawful basis for contacting a person.

use super::ValueError;
use std::fmt;

/// Longest identifier accepted from another system (CRM ids are 18 characters, message ids
/// rarely exceed 200).
const MAX_ID_LEN: usize = 255;

fn clean_id(input: &str, what: &str) -> Result<String, ValueError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ValueError::new(format!("empty {what}")));
    }
    if trimmed.len() > MAX_ID_LEN {
        return Err(ValueError::new(format!(
            "{what} is longer than {MAX_ID_LEN} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValueError::new(format!(
            "{what} contains a control character"
        )));
    }
    Ok(trimmed.to_owned())
}

macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, ValueError> {
                clean_id(input, $what).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    };
}

id_newtype!(
    /// The id a record has in the CRM it came from (Salesforce `Id`, HubSpot `Record ID`).
    CrmId,
    "CRM id"
);
id_newtype!(
    /// The id of an activity in its source system (a message id, an event id): activities
    /// are stored once per id.
    ActivityId,
    "activity id"
);

/// An intent or content topic, as the source names it ("Intent Data", "Customer Data
/// Platform"). Whitespace is collapsed; case is kept for display.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Topic(String);

impl Topic {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let collapsed = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(ValueError::new("empty topic"));
        }
        if collapsed.chars().count() > 200 {
            return Err(ValueError::new("topic is longer than 200 characters"));
        }
        if collapsed.chars().any(char::is_control) {
            return Err(ValueError::new("topic contains a control character"));
        }
        Ok(Topic(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A score from 0 to 100. Sources that send decimals (`73.6`) are rounded to the nearest
/// whole point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Score(u8);

impl Score {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let number: f64 = input
            .trim()
            .parse()
            .map_err(|_| ValueError::new("a score must be a number from 0 to 100"))?;
        if !number.is_finite() || !(0.0..=100.0).contains(&number) {
            return Err(ValueError::new("a score must be from 0 to 100"));
        }
        Ok(Score(number.round() as u8))
    }

    pub fn new(value: u8) -> Result<Self, ValueError> {
        if value > 100 {
            return Err(ValueError::new("a score must be from 0 to 100"));
        }
        Ok(Score(value))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

/// The lawful basis on which a contact may be contacted (GDPR article 6 and its cousins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    Consent,
    LegitimateInterest,
    Contract,
    /// The person has not given a basis; sending that needs one must be held.
    None,
}

impl LawfulBasis {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let key: String = input
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        match key.as_str() {
            "consent" | "optin" | "optedin" | "explicitconsent" | "impliedconsent" => {
                Ok(Self::Consent)
            }
            "legitimateinterest"
            | "legitimateinterests"
            | "li"
            | "legitimateinterestprospect"
            | "legitimateinterestexistingcustomer" => Ok(Self::LegitimateInterest),
            "contract" | "performanceofacontract" => Ok(Self::Contract),
            "none" | "notapplicable" | "na" | "unknown" => Ok(Self::None),
            _ => Err(ValueError::new(
                "unknown lawful basis: use consent, legitimate_interest, contract or none",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::LegitimateInterest => "legitimate_interest",
            Self::Contract => "contract",
            Self::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_topics_ids() {
        assert_eq!(Score::parse("73.6").map(Score::value), Ok(74));
        assert_eq!(Score::parse("0").map(Score::value), Ok(0));
        assert!(Score::parse("140").is_err());
        assert!(Score::parse("-1").is_err());
        assert!(Score::parse("NaN").is_err());
        assert_eq!(
            Topic::parse("  Intent   Data ").map(|t| t.0),
            Ok("Intent Data".into())
        );
        assert!(Topic::parse("  ").is_err());
        assert!(CrmId::parse("").is_err());
        assert_eq!(CrmId::parse(" 001A ").map(|id| id.0), Ok("001A".into()));
        assert!(ActivityId::parse(&"x".repeat(300)).is_err());
        assert_eq!(
            LawfulBasis::parse("Legitimate Interest"),
            Ok(LawfulBasis::LegitimateInterest)
        );
        assert_eq!(
            LawfulBasis::parse("legitimate_interest"),
            Ok(LawfulBasis::LegitimateInterest)
        );
    }
}
