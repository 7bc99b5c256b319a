//! Timestamps read from SQLite without chrono's pattern parser.
//!
//! SQLite keeps a timestamp as text, and diesel reads it with `NaiveDateTime::parse_from_str`,
//! which parses its pattern on every call: the 100 timestamps of a list page were an eighth of
//! page 1's instructions (callgrind, docs/performance.md). The form diesel and our migrations
//! write, `YYYY-MM-DD HH:MM:SS` with an optional fraction, is read here field by field; any
//! other text or type is left to diesel, so what reads and what fails is unchanged.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::{Sqlite, SqliteType};
use diesel::Connection;

use super::DbConn;

/// A column of SQL type `Timestamp` read as a `NaiveDateTime`: a field declares it with
/// `#[diesel(deserialize_as = Moment)]`.
#[derive(diesel::deserialize::FromSqlRow)]
pub struct Moment(NaiveDateTime);

impl From<Moment> for NaiveDateTime {
    fn from(moment: Moment) -> Self {
        moment.0
    }
}

impl FromSql<Timestamp, Sqlite> for Moment {
    fn from_sql(
        mut value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        if value.value_type() == Some(SqliteType::Text) {
            if let Some(at) = parse_sqlite_text(value.read_text()) {
                return Ok(Moment(at));
            }
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Moment)
    }
}

impl FromSql<Timestamp, Pg> for Moment {
    fn from_sql(
        value: <Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Moment)
    }
}

type Backend = <DbConn as Connection>::Backend;

impl FromSql<Timestamp, Backend> for Moment {
    fn from_sql(
        value: <Backend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

/// `YYYY-MM-DD HH:MM:SS`, then optionally `.` and 1 to 9 digits; `None` for anything else,
/// including dates and times that do not exist.
fn parse_sqlite_text(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[10] != b' ' {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        bytes[from..to].iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let nanos = match &bytes[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(20, bytes.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(number(0, 4)? as i32, number(5, 7)?, number(8, 10)?)?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text read here is read as chrono reads it with diesel's first pattern; every text
    /// not read here is left to diesel.
    #[test]
    fn reads_as_chrono_reads_or_leaves_it() {
        let read = [
            "2020-01-01 00:00:00",
            "2026-12-01 23:59:59",
            "2024-02-29 12:30:45",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "2026-12-01 10:11:12.5",
            "2026-12-01 10:11:12.123",
            "2026-12-01 10:11:12.123456",
            "2026-12-01 10:11:12.123456789",
            "2026-12-01 10:11:12.000",
        ];
        for text in read {
            let expected = NaiveDateTime::parse_from_str(text, "%F %T%.f").unwrap();
            assert_eq!(parse_sqlite_text(text), Some(expected), "{text}");
        }
        let left = [
            "",
            "2026-12-01",
            "2026-12-01T10:11:12",
            "2026-12-01 10:11",
            "2026-12-01 10:11:12Z",
            "2026-12-01 10:11:12+00:00",
            "2026-12-01 10:11:12.",
            "2026-12-01 10:11:12.1234567890",
            "2023-02-29 00:00:00",
            "2026-13-01 00:00:00",
            "2026-12-01 24:00:00",
            "2026-12-01 10:61:00",
            "+2026-12-0 10:11:12",
            "2026-1a-01 10:11:12",
            "2026-12-01 10:11:1é",
            "2026-12-01 10:11:12.1x",
            "２０２６-12-01 10:11:12",
        ];
        for text in left {
            assert_eq!(parse_sqlite_text(text), None, "{text}");
        }
    }
}
