//! The instants and durations the command line takes: `--as-of 2026-03-01` (the end of that
//! day, UTC: everything that happened on it is known), RFC 3339 times, `--horizon 90d`/`12w`.

use anyhow::{Result, bail};
use jiff::Timestamp;

/// Microseconds since the epoch for `--as-of`; now when absent.
pub fn as_of(input: Option<&str>, now: Timestamp) -> Result<i64> {
    let Some(input) = input else {
        return Ok(now.as_microsecond());
    };
    let text = input.trim();
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Ok(timestamp.as_microsecond());
    }
    match text.parse::<jiff::civil::Date>() {
        Ok(date) => {
            let next = date
                .tomorrow()
                .and_then(|day| day.to_zoned(jiff::tz::TimeZone::UTC))
                .map_err(|error| anyhow::anyhow!("--as-of {text:?}: {error}"))?;
            Ok(next.timestamp().as_microsecond() - 1)
        }
        Err(_) => bail!(
            "--as-of {text:?}: expected a date YYYY-MM-DD or an RFC 3339 time such as 2026-03-01T12:00:00Z"
        ),
    }
}

/// Days in `90d`, `12w` or a bare number of days.
pub fn days(input: &str, option: &str) -> Result<u32> {
    let text = input.trim().to_ascii_lowercase();
    let (number, unit) = match text.strip_suffix('w') {
        Some(number) => (number, 7),
        None => (text.strip_suffix('d').unwrap_or(&text), 1),
    };
    match number.trim().parse::<u32>() {
        Ok(value) if value > 0 && value <= 3650 / unit => Ok(value * unit),
        _ => bail!("{option} {input:?}: expected a duration such as 90d or 12w (at most 10 years)"),
    }
}

/// `2026-03-01 23:59 UTC` for people.
pub fn show(micros: i64) -> String {
    match Timestamp::from_microsecond(micros) {
        Ok(timestamp) => timestamp
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string(),
        Err(_) => micros.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_mean_the_end_of_the_day() {
        let now = Timestamp::UNIX_EPOCH;
        let end = as_of(Some("2026-03-01"), now).expect("date");
        assert_eq!(show(end), "2026-03-01 23:59 UTC");
        assert_eq!(
            as_of(Some("2026-03-01T12:00:00Z"), now).expect("time"),
            "2026-03-01T12:00:00Z"
                .parse::<Timestamp>()
                .expect("t")
                .as_microsecond()
        );
        assert!(as_of(Some("March"), now).is_err());
        assert_eq!(as_of(None, now).expect("now"), 0);
    }

    #[test]
    fn durations() {
        assert_eq!(days("90d", "--horizon").expect("d"), 90);
        assert_eq!(days("12w", "--horizon").expect("w"), 84);
        assert_eq!(days("30", "--horizon").expect("n"), 30);
        for bad in ["0d", "-3d", "ninety", "4000d"] {
            assert!(days(bad, "--horizon").is_err(), "{bad}");
        }
    }
}
