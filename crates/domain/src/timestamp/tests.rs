use proptest::prelude::*;
use time::macros::datetime;

use super::*;

/// One row: an instant, and the one text it must be written as.
fn check(at: OffsetDateTime, expected: &str) {
    assert_eq!(Timestamp::from_offset(at).to_string(), expected, "{at}");
}

#[test]
fn writes_rfc_3339_in_utc_with_exactly_three_fractional_digits() {
    check(
        datetime!(2026-02-18 03:22:56.637 UTC),
        "2026-02-18T03:22:56.637Z",
    );
    check(
        datetime!(2026-02-18 03:22:56 UTC),
        "2026-02-18T03:22:56.000Z",
    );
    check(
        datetime!(2026-02-18 03:22:56.5 UTC),
        "2026-02-18T03:22:56.500Z",
    );
    check(
        datetime!(2026-02-18 03:22:56.637999999 UTC),
        "2026-02-18T03:22:56.637Z",
    );
    check(
        datetime!(2026-02-18 05:22:56.637 +02:00),
        "2026-02-18T03:22:56.637Z",
    );
    check(datetime!(0999-01-02 00:00 UTC), "0999-01-02T00:00:00.000Z");
}

#[test]
fn truncates_to_the_millisecond_whatever_builds_it() {
    let precise = datetime!(2026-02-18 03:22:56.637_400_001 UTC);
    let truncated = datetime!(2026-02-18 03:22:56.637 UTC);
    assert_eq!(Timestamp::from_offset(precise).as_offset(), truncated);
    assert_eq!(
        (Timestamp::from_offset(truncated) + Duration::nanoseconds(999_999)).as_offset(),
        truncated
    );
    assert_eq!(
        Timestamp::parse("2026-02-18T03:22:56.637400001Z").map(Timestamp::as_offset),
        Ok(truncated)
    );
}

#[test]
fn parse_refuses_what_is_not_rfc_3339() {
    for raw in ["", "yesterday", "2026-02-18", "03:22:56Z", "1771384976"] {
        assert_eq!(
            Timestamp::parse(raw),
            Err(InvalidValue::Rule("is not an RFC 3339 time")),
            "{raw:?}"
        );
    }
}

#[test]
fn differences_and_offsets_are_exact_to_the_millisecond() {
    let t0 = Timestamp::from_offset(datetime!(2026-01-01 12:00 UTC));
    assert_eq!((t0 + Duration::minutes(5)) - t0, Duration::minutes(5));
    assert_eq!(
        t0 - Duration::milliseconds(1) - t0,
        Duration::milliseconds(-1)
    );
    assert_eq!(t0.unix_seconds(), 1_767_268_800);
}

fn any_instant() -> impl Strategy<Value = OffsetDateTime> {
    // Years 1 to 9999: the range the four-digit text form covers.
    (-62_135_596_800_000_000_000_i128..253_402_300_799_999_999_999_i128).prop_map(|nanos| {
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    })
}

proptest! {
    #[test]
    fn the_text_form_reads_back_as_the_same_instant(at in any_instant()) {
        let timestamp = Timestamp::from_offset(at);
        prop_assert_eq!(Timestamp::parse(&timestamp.to_string()), Ok(timestamp));
    }

    #[test]
    fn text_order_is_time_order(a in any_instant(), b in any_instant()) {
        let (a, b) = (Timestamp::from_offset(a), Timestamp::from_offset(b));
        prop_assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
    }
}

/// Failed assertions print times through `Debug`: they must read as the API writes them.
#[test]
fn debug_output_shows_the_instant_as_the_api_writes_it() {
    let at = Timestamp::from_offset(datetime!(2026-02-18 03:22:56.637 UTC));

    assert_eq!(format!("{at:?}"), "Timestamp(2026-02-18T03:22:56.637Z)");
}
