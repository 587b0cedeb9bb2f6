//! The two value types whose columns differ between the schemas, each
//! encoded natively for both databases so that one query text serves both:
//! a [`Moment`] is `timestamptz` in PostgreSQL and Unix seconds (INTEGER) in
//! SQLite; a [`Day`] is `date` in PostgreSQL and `YYYY-MM-DD` TEXT in SQLite.
//! Both keep whole seconds, as the schemas always have.

use jiff::{Timestamp, civil::Date};
use sqlx::{
    Decode, Encode, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef, types::Oid},
    sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef},
};

/// A moment in time as a column value: whole seconds, in both databases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment(pub Timestamp);

impl Moment {
    /// `at` as a column keeps it (and a read gives it back).
    pub fn kept(at: Timestamp) -> Timestamp {
        Timestamp::from_second(at.as_second()).unwrap_or(at)
    }
}

impl From<Moment> for Timestamp {
    fn from(moment: Moment) -> Self {
        moment.0
    }
}

/// A calendar date as a column value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Day(pub Date);

/// PostgreSQL counts from 2000-01-01 (UTC), in microseconds and in days.
const PG_EPOCH_SECONDS: i64 = 946_684_800;
const PG_EPOCH_DATE: Date = jiff::civil::date(2000, 1, 1);

/// Each type's column type: an OID in PostgreSQL (`timestamptz`, `date`), the
/// type it is stored as in SQLite.
macro_rules! column_type {
    ($($name:ty: $oid:expr, $sqlite:ty;)*) => {$(
        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                PgTypeInfo::with_oid($oid)
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                ty.oid() == Some($oid)
            }
        }

        impl Type<Sqlite> for $name {
            fn type_info() -> SqliteTypeInfo {
                <$sqlite as Type<Sqlite>>::type_info()
            }
            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <$sqlite as Type<Sqlite>>::compatible(ty)
            }
        }
    )*};
}

column_type! {
    Moment: Oid(1184), i64;
    Day: Oid(1082), &str;
}

fn binary<'r>(value: &PgValueRef<'r>, what: &str) -> Result<&'r [u8], BoxDynError> {
    match value.format() {
        PgValueFormat::Binary => value.as_bytes(),
        PgValueFormat::Text => Err(format!("{what} arrived as text; the store only reads binary rows").into()),
    }
}

impl Encode<'_, Postgres> for Moment {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let micros = (self.0.as_second() - PG_EPOCH_SECONDS) * 1_000_000;
        buf.extend_from_slice(&micros.to_be_bytes());
        Ok(IsNull::No)
    }
}

impl Decode<'_, Postgres> for Moment {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        let micros = i64::from_be_bytes(binary(&value, "a timestamptz")?.try_into()?);
        let since_unix = micros.checked_add(PG_EPOCH_SECONDS * 1_000_000).ok_or("timestamptz out of range")?;
        Ok(Moment(Timestamp::from_microsecond(since_unix)?))
    }
}

impl Encode<'_, Sqlite> for Moment {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.0.as_second(), buf)
    }
}

impl Decode<'_, Sqlite> for Moment {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Moment(Timestamp::from_second(<i64 as Decode<Sqlite>>::decode(value)?)?))
    }
}

impl Encode<'_, Postgres> for Day {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let days: i32 = PG_EPOCH_DATE.until(self.0)?.get_days();
        buf.extend_from_slice(&days.to_be_bytes());
        Ok(IsNull::No)
    }
}

impl Decode<'_, Postgres> for Day {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        let days = i32::from_be_bytes(binary(&value, "a date")?.try_into()?);
        Ok(Day(PG_EPOCH_DATE.checked_add(jiff::Span::new().try_days(days)?)?))
    }
}

impl Encode<'_, Sqlite> for Day {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.0.to_string(), buf)
    }
}

impl Decode<'_, Sqlite> for Day {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Day(<&str as Decode<Sqlite>>::decode(value)?.parse()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL's own epoch, 2000-01-01T00:00:00Z, is Unix second 946684800
    /// (PostgreSQL documentation, "Date/Time Types"; `date +%s -d 2000-01-01Z`).
    #[test]
    fn the_postgres_epoch_is_where_postgres_puts_it() {
        assert_eq!(Timestamp::from_second(PG_EPOCH_SECONDS).ok(), "2000-01-01T00:00:00Z".parse().ok());
    }
}
