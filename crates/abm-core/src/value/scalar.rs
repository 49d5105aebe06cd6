//! Parsing of the scalar values CRM and marketing exports contain: counts and money with
//! thousands separators and currency signs, yes/no flags, dates and timestamps in the forms
//! Salesforce, HubSpot and spreadsheets write them.

use super::ValueError;
use jiff::{Timestamp, civil::Date, tz::TimeZone};

/// A yes/no flag: `true/false`, `yes/no`, `y/n`, `1/0`, `t/f`, any case.
pub fn parse_bool(input: &str) -> Result<bool, ValueError> {
    match input.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "t" | "x" => Ok(true),
        "false" | "no" | "n" | "0" | "f" => Ok(false),
        _ => Err(ValueError::new(
            "expected a yes/no value (true, false, yes, no, 1, 0)",
        )),
    }
}

/// A whole, non-negative count such as an employee count: `1200`, `1,200`, `1 200`, `1200.0`.
pub fn parse_count(input: &str) -> Result<u64, ValueError> {
    let number = parse_decimal(input)?;
    if number < 0.0 {
        return Err(ValueError::new("a count cannot be negative"));
    }
    if number.fract() != 0.0 {
        return Err(ValueError::new("a count must be a whole number"));
    }
    if number > 1e15 {
        return Err(ValueError::new("count is implausibly large"));
    }
    Ok(number as u64)
}

/// A non-negative amount of money: `1200000`, `1,200,000.50`, `$1,200,000`, `€ 1.2e6`, `USD 900`.
pub fn parse_money(input: &str) -> Result<f64, ValueError> {
    let trimmed = input.trim();
    let without_currency = trimmed
        .trim_start_matches(|c: char| matches!(c, '$' | '€' | '£' | '¥') || c.is_ascii_uppercase())
        .trim_end_matches(|c: char| matches!(c, '$' | '€' | '£' | '¥') || c.is_ascii_uppercase());
    let number = parse_decimal(without_currency)?;
    if number < 0.0 {
        return Err(ValueError::new("an amount cannot be negative"));
    }
    if number > 1e15 {
        return Err(ValueError::new("amount is implausibly large"));
    }
    Ok(number)
}

/// A decimal number with optional thousands separators (`,`, `'`, thin or plain spaces).
/// A `.` is the decimal point; exports from locales that use `,` as the decimal point must
/// be mapped first, because `1,200` is ambiguous and we read it as one thousand two hundred.
fn parse_decimal(input: &str) -> Result<f64, ValueError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ValueError::new("empty number"));
    }
    let mut cleaned = String::with_capacity(trimmed.len());
    for character in trimmed.chars() {
        match character {
            ',' | '\'' | ' ' | '\u{a0}' | '\u{202f}' | '_' => {}
            _ => cleaned.push(character),
        }
    }
    let valid_shape = !cleaned.is_empty()
        && cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    let number: f64 = if valid_shape {
        cleaned.parse().ok()
    } else {
        None
    }
    .ok_or_else(|| ValueError::new("not a number"))?;
    if !number.is_finite() {
        return Err(ValueError::new("not a finite number"));
    }
    if let Some(grouped) = trimmed.split('.').next()
        && grouped.contains(',')
        && !grouped
            .trim_start_matches(['-', '+'])
            .split(',')
            .skip(1)
            .all(|group| group.len() == 3)
    {
        return Err(ValueError::new(
            "thousands separators must group three digits (is ',' a decimal point here?)",
        ));
    }
    Ok(number)
}

/// A calendar date: `2026-03-01`, `2026-03-01T10:00:00Z` (the date part), `3/1/2026` (US
/// month/day/year, as Salesforce and HubSpot report exports write it).
pub fn parse_date(input: &str) -> Result<Date, ValueError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ValueError::new("empty date"));
    }
    if let Ok(date) = trimmed.parse::<Date>() {
        return Ok(date);
    }
    if let Some((month, rest)) = trimmed.split_once('/')
        && let Some((day, year)) = rest.split_once('/')
    {
        let parsed = (
            year.trim().parse::<i16>(),
            month.trim().parse::<i8>(),
            day.trim().parse::<i8>(),
        );
        if let (Ok(year), Ok(month), Ok(day)) = parsed
            && (1900..=2200).contains(&year)
        {
            return Date::new(year, month, day)
                .map_err(|_| ValueError::new("not a real calendar date (month/day/year)"));
        }
    }
    if trimmed.len() > 10
        && let Ok(timestamp) = parse_timestamp(trimmed)
    {
        return Ok(timestamp.to_zoned(TimeZone::UTC).date());
    }
    Err(ValueError::new("not a date: use YYYY-MM-DD (or M/D/YYYY)"))
}

/// A point in time: RFC 3339 (`2026-03-01T10:00:00Z`, `…+01:00`, `…+0000` as Salesforce
/// writes it), or a date/date-time without offset, which is read as UTC. Truncated to whole
/// microseconds so that SQLite and PostgreSQL store the same instant.
pub fn parse_timestamp(input: &str) -> Result<Timestamp, ValueError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ValueError::new("empty timestamp"));
    }
    let parsed = trimmed
        .parse::<Timestamp>()
        .ok()
        .or_else(|| {
            trimmed
                .parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|datetime| datetime.to_zoned(TimeZone::UTC).ok())
                .map(|zoned| zoned.timestamp())
        })
        .or_else(|| {
            trimmed
                .parse::<Date>()
                .ok()
                .and_then(|date| date.to_zoned(TimeZone::UTC).ok())
                .map(|zoned| zoned.timestamp())
        })
        .ok_or_else(|| {
            ValueError::new("not a timestamp: use RFC 3339, e.g. 2026-03-01T10:00:00Z")
        })?;
    Timestamp::from_microsecond(parsed.as_microsecond())
        .map_err(|_| ValueError::new("timestamp out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_money_and_flags() {
        assert_eq!(parse_count("1,200"), Ok(1200));
        assert_eq!(parse_count(" 1 200 "), Ok(1200));
        assert_eq!(parse_count("1200.0"), Ok(1200));
        assert!(parse_count("-5").is_err());
        assert!(parse_count("12.5").is_err());
        assert!(parse_count("1,20").is_err());
        assert!(parse_count("lots").is_err());
        assert_eq!(parse_money("$1,200,000.50"), Ok(1_200_000.5));
        assert_eq!(parse_money("USD 900"), Ok(900.0));
        assert_eq!(parse_money("€ 1.5e6"), Ok(1_500_000.0));
        assert!(parse_money("-3").is_err());
        assert!(parse_money("NaN").is_err());
        assert!(parse_money("inf").is_err());
        assert_eq!(parse_bool("Yes"), Ok(true));
        assert_eq!(parse_bool("0"), Ok(false));
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn dates_and_timestamps() {
        let date = |s: &str| parse_date(s).map(|d| d.to_string()).map_err(|e| e.0);
        assert_eq!(date("2026-03-01"), Ok("2026-03-01".into()));
        assert_eq!(date("3/1/2026"), Ok("2026-03-01".into()));
        assert_eq!(date("2026-03-01T23:30:00Z"), Ok("2026-03-01".into()));
        assert!(date("2026-02-30").is_err());
        assert!(date("13/1/2026").is_err());
        assert!(date("soon").is_err());
        let ts = |s: &str| parse_timestamp(s).map(|t| t.to_string()).map_err(|e| e.0);
        assert_eq!(
            ts("2026-03-01T10:00:00Z"),
            Ok("2026-03-01T10:00:00Z".into())
        );
        assert_eq!(
            ts("2026-03-01T11:00:00+01:00"),
            Ok("2026-03-01T10:00:00Z".into())
        );
        assert_eq!(
            ts("2026-03-01T10:00:00.000+0000"),
            Ok("2026-03-01T10:00:00Z".into())
        );
        assert_eq!(ts("2026-03-01 10:00:00"), Ok("2026-03-01T10:00:00Z".into()));
        assert_eq!(ts("2026-03-01"), Ok("2026-03-01T00:00:00Z".into()));
        assert_eq!(
            ts("2026-03-01T10:00:00.123456789Z"),
            Ok("2026-03-01T10:00:00.123456Z".into())
        );
        assert!(ts("2026-13-01T10:00:00Z").is_err());
        assert!(ts("yesterday").is_err());
    }

    proptest::proptest! {
        #[test]
        fn scalar_parsers_never_panic(input in "\\PC{0,40}") {
            let _ = parse_count(&input);
            let _ = parse_money(&input);
            let _ = parse_bool(&input);
            let _ = parse_date(&input);
            let _ = parse_timestamp(&input);
        }
    }
}
