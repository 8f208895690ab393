use super::*;

/// 2026-12-07T13:36:04Z in ms.
const T: i64 = 1_796_650_564_000;

fn read(format: &str, text: &str) -> Option<i64> {
    Strftime::compile(format)
        .unwrap()
        .read(text.as_bytes())?
        .unix_ms()
}

#[test]
fn the_usual_access_log_formats_read_back() {
    let cases = [
        ("%d/%b/%Y:%H:%M:%S %z", "07/Dec/2026:13:36:04 +0000", T),
        ("%d/%b/%Y %T", "07/Dec/2026 13:36:04", T),
        ("%Y-%m-%dT%H:%M:%S%z", "2026-12-07T14:36:04+0100", T),
        ("%FT%T%z", "2026-12-07T08:06:04-05:30", T),
        ("%F %T", "2026-12-07 13:36:04", T),
        ("%b %e %H:%M:%S %Y", "Dec  7 13:36:04 2026", T),
        ("%c", "Mon Dec  7 13:36:04 2026", T),
        (
            "%A, %d %B %Y %R",
            "Monday, 07 December 2026 13:36",
            T - 4000,
        ),
        ("%D %r", "12/07/26 01:36:04 PM", T),
        ("%D %r", "12/07/26 12:36:04 AM", T - 13 * 3_600_000),
        ("%s", "1796650564", T),
        ("%Y%m%d%H%M%S", "20261207133604", T),
        // Two-digit years pivot at 69 (POSIX).
        ("%y-%m-%d %T", "69-12-07 13:36:04", -2_111_036_000),
        ("%y-%m-%d %T", "68-12-07 13:36:04", 3_122_112_964_000),
        ("%-d/%-m/%Y %k:%M:%S %Z", "7/12/2026 13:36:04 UTC", T),
        (
            "[%j %u] %d.%m.%Y %%%H:%M:%S",
            "[341 1] 07.12.2026 %13:36:04",
            T,
        ),
    ];
    for (format, text, expected) in cases {
        assert_eq!(read(format, text), Some(expected), "{format} on {text:?}");
    }
}

#[test]
fn text_that_is_not_the_formats_output_is_no_time() {
    let cases = [
        ("%d/%b/%Y %T", "07/Dec/2026 13:36:04 +0000"),
        ("%d/%b/%Y %T", "07/Dex/2026 13:36:04"),
        ("%d/%b/%Y %T", "07-Dec-2026 13:36:04"),
        ("%d/%b/%Y %T", "07/Dec/2026 24:36:04"),
        ("%d/%m/%Y %T", "07/13/2026 13:36:04"),
        ("%d/%b/%Y %T", "07/Dec/2026"),
        ("%F %T%z", "2026-12-07 13:36:04 0100"),
        ("%F %T%z", "2026-12-07 13:36:04+0160"),
        ("%D %r", "12/07/26 13:36:04 XM"),
        ("%s", ""),
    ];
    for (format, text) in cases {
        let got = Strftime::compile(format).unwrap().read(text.as_bytes());
        assert_eq!(got, None, "{format} on {text:?}");
    }
}

#[test]
fn parts_spread_over_fields_add_up() {
    let date_time = Strftime::compile("%d/%b/%Y %T").unwrap();
    let zone = Strftime::compile("%z").unwrap();
    let reading = date_time
        .read(b"07/Dec/2026 14:36:04")
        .unwrap()
        .and(zone.read(b"+0100").unwrap());
    assert_eq!(reading.unix_ms(), Some(T));
    assert_eq!(zone.read(b"+0100").unwrap().unix_ms(), None, "no date");
    assert_eq!(
        date_time.gives(),
        Gives {
            date: true,
            time_of_day: true
        }
    );
    assert_eq!(zone.gives(), Gives::default());
    let hour_only = Strftime::compile("%H:%M").unwrap().gives();
    assert_eq!((hour_only.date, hour_only.time_of_day), (false, true));
}

#[test]
fn conversions_that_are_not_read_are_named() {
    let e = Strftime::compile("%Y week %U").unwrap_err();
    assert_eq!(e.conversion, "%U");
    assert!(e.message.contains("not read"), "{e:?}");
    assert_eq!(Strftime::compile("%d %Ey").unwrap_err().conversion, "%E");
    let e = Strftime::compile("%d %").unwrap_err();
    assert_eq!(e.conversion, "%");
    assert!(e.message.contains("without a conversion letter"), "{e:?}");
}

proptest::proptest! {
    /// Any second from 1970 to 2100, written as `%d/%b/%Y:%H:%M:%S %z`
    /// in any offset (the text built from the `time` crate's calendar),
    /// reads back to itself.
    #[test]
    fn any_time_in_any_offset_reads_back(
        unix_s in 0_i64..4_102_444_800,
        offset_min in -(14 * 60)..=(14 * 60_i32),
    ) {
        let offset = ::time::UtcOffset::from_whole_seconds(offset_min * 60).unwrap();
        let at = ::time::OffsetDateTime::from_unix_timestamp(unix_s).unwrap().to_offset(offset);
        let month = &MONTHS[usize::from(u8::from(at.month())) - 1][..3];
        let sign = if offset_min < 0 { '-' } else { '+' };
        let text = format!(
            "{:02}/{}{}/{:04}:{:02}:{:02}:{:02} {sign}{:02}{:02}",
            at.day(),
            month[..1].to_ascii_uppercase(),
            &month[1..],
            at.year(),
            at.hour(),
            at.minute(),
            at.second(),
            offset_min.abs() / 60,
            offset_min.abs() % 60,
        );
        proptest::prop_assert_eq!(read("%d/%b/%Y:%H:%M:%S %z", &text), Some(unix_s * 1000), "{}", text);
    }

    #[test]
    fn any_text_is_read_or_refused(text in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
        for format in ["%d/%b/%Y %T", "%c", "%s", "%F %r %z %Z"] {
            let _ = Strftime::compile(format).unwrap().read(&text);
        }
    }
}
