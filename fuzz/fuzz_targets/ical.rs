//! iCalendar output (`src/ical.rs`): whatever a name, service or note holds,
//! the calendar stays well-formed — CRLF lines of at most 75 octets, folded
//! without splitting a character, one VEVENT per event — and reading it back
//! (unfold, unescape) gives every TEXT value as written, less the control
//! characters RFC 5545 forbids, and every time to the second.
#![no_main]

use jiff::Timestamp;
use justbookme::ical::{Event, EventStatus, calendar};
use libfuzzer_sys::fuzz_target;

/// What a TEXT value should read back as: line breaks as `\n`, other
/// control characters gone.
fn expected(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n").chars().filter(|c| *c == '\n' || !c.is_control()).collect()
}

/// RFC 5545 §3.3.11, read back.
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other @ ('\\' | ';' | ',')) => out.push(other),
            other => panic!("a stray backslash before {other:?} in {value:?}"),
        }
    }
    out
}

fn instant(seconds: i64) -> Timestamp {
    let (min, max) = (Timestamp::MIN.as_second() + 86_400, Timestamp::MAX.as_second() - 86_400);
    Timestamp::from_second(seconds.clamp(min, max)).expect("in range")
}

fuzz_target!(|input: (String, Vec<(String, String, Option<String>, u32, i64, u8)>)| {
    let (name, raw) = input;
    let events: Vec<Event> = raw
        .into_iter()
        .take(8)
        .map(|(uid, summary, description, sequence, start, status)| Event {
            uid,
            sequence,
            status: [EventStatus::Tentative, EventStatus::Confirmed, EventStatus::Cancelled][usize::from(status % 3)],
            start: instant(start),
            end: instant(start.saturating_add(3600)),
            created: instant(start),
            last_modified: instant(start),
            summary,
            description,
            url: None,
        })
        .collect();
    let ics = calendar(&name, &events, instant(0));

    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    let physical: Vec<&str> = ics.strip_suffix("\r\n").expect("CRLF at the end").split("\r\n").collect();
    for line in &physical {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        assert!(!line.contains('\r') && !line.contains('\n'), "a bare line break in {line:?}");
    }
    // Unfolded: a continuation line starts with one space, which is dropped.
    let unfolded = ics.replace("\r\n ", "");
    let lines: Vec<&str> = unfolded.strip_suffix("\r\n").expect("CRLF").split("\r\n").collect();
    let values = |property: &str| -> Vec<&str> {
        lines.iter().filter_map(|line| line.strip_prefix(property).and_then(|rest| rest.strip_prefix(':'))).collect()
    };
    assert_eq!(values("X-WR-CALNAME").iter().map(|v| unescape(v)).collect::<Vec<_>>(), [expected(&name)]);
    assert_eq!(values("BEGIN").iter().filter(|v| **v == "VEVENT").count(), events.len());
    let summaries: Vec<String> = values("SUMMARY").iter().map(|v| unescape(v)).collect();
    assert_eq!(summaries, events.iter().map(|e| expected(&e.summary)).collect::<Vec<_>>());
    let uids: Vec<String> = values("UID").iter().map(|v| unescape(v)).collect();
    assert_eq!(uids, events.iter().map(|e| expected(&e.uid)).collect::<Vec<_>>());
    let descriptions: Vec<String> = values("DESCRIPTION").iter().map(|v| unescape(v)).collect();
    let written: Vec<String> = events.iter().filter_map(|e| e.description.as_deref()).map(expected).collect();
    assert_eq!(descriptions, written);
    let starts: Vec<&str> = values("DTSTART");
    for (start, event) in starts.iter().zip(&events) {
        assert_eq!(*start, event.start.strftime("%Y%m%dT%H%M%SZ").to_string());
    }
    let sequences: Vec<u32> = values("SEQUENCE").iter().map(|v| v.parse().expect("a number")).collect();
    assert_eq!(sequences, events.iter().map(|e| e.sequence).collect::<Vec<_>>());
});
