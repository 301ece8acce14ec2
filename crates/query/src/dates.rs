//! Dates in criteria: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ`, with or without fractional seconds
//! or an offset.

use jiff::Timestamp;
use jiff::civil::Date;

/// Parses a criteria date into a half-open range of epoch seconds.
pub fn parse_time_range(s: &str) -> Option<(i64, i64)> {
    let s = s.trim();
    if let Ok(day) = s.parse::<Date>()
        && s.len() == 10
    {
        let start = jiff::tz::TimeZone::UTC
            .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
            .ok()?;
        return Some((start.as_second(), start.as_second() + 86_400));
    }
    let t = parse_instant(s)?;
    Some((t.as_second(), t.as_second() + 1))
}

/// Parses one instant; a timestamp without an offset is taken as UTC, as Qualys writes them.
pub fn parse_instant(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let dt = s.parse::<jiff::civil::DateTime>().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_form() {
        let day = parse_time_range("2022-04-02").unwrap();
        assert_eq!(day.1 - day.0, 86_400);
        let sec = parse_time_range("2022-04-02T00:39:36Z").unwrap();
        assert_eq!(sec.1 - sec.0, 1);
        assert_eq!(
            parse_time_range("2022-04-02T00:39:36.250Z").unwrap().0,
            sec.0
        );
        assert_eq!(parse_time_range("2022-04-02T00:39:36").unwrap().0, sec.0);
        assert_eq!(
            parse_time_range("2022-04-02T02:39:36+02:00").unwrap().0,
            sec.0
        );
        assert!(parse_time_range("yesterday").is_none());
        assert!(parse_time_range("2022-13-02").is_none());
    }
}
