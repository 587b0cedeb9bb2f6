//! iCalendar (RFC 5545) output: the provider's calendar feed and a client's
//! "Add to calendar" file. Pure text building, no HTTP or store types.
//!
//! Decisions: times are written in UTC (`…Z`, §3.3.5 form 2), so no
//! `VTIMEZONE` is needed and every calendar app shows them in its own zone —
//! DST is settled once, when the booking's instant was computed in the
//! provider's zone. `UID` is the booking id (stable for the booking's life),
//! `SEQUENCE` its revision (bumped by every change, so subscribed calendars
//! replace the event), and a cancelled booking stays in the feed as
//! `STATUS:CANCELLED` so calendars remove it rather than keep a stale copy.

use std::fmt::Write;

use jiff::Timestamp;

/// What an event shows; the caller decides what is shown to whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Globally unique and stable: `<booking id>@justbookme`.
    pub uid: String,
    pub sequence: u32,
    pub status: EventStatus,
    pub start: Timestamp,
    pub end: Timestamp,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    pub summary: String,
    pub description: Option<String>,
    pub url: Option<String>,
}

/// RFC 5545 §3.8.1.11 event statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventStatus {
    Tentative,
    Confirmed,
    Cancelled,
}

impl EventStatus {
    fn as_str(self) -> &'static str {
        match self {
            EventStatus::Tentative => "TENTATIVE",
            EventStatus::Confirmed => "CONFIRMED",
            EventStatus::Cancelled => "CANCELLED",
        }
    }
}

/// A whole `VCALENDAR` named `name`, its events in the order given, lines
/// ended by CRLF and folded at 75 octets. `now` is every event's `DTSTAMP`
/// (when this copy was made, §3.8.7.2 for `METHOD:PUBLISH`).
pub fn calendar(name: &str, events: &[Event], now: Timestamp) -> String {
    let mut out = String::with_capacity(256 + events.len() * 400);
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Just Book Me//Bookings//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    for event in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", text(&event.uid)));
        line(&mut out, &format!("DTSTAMP:{}", utc(now)));
        line(&mut out, &format!("DTSTART:{}", utc(event.start)));
        line(&mut out, &format!("DTEND:{}", utc(event.end)));
        line(&mut out, &format!("CREATED:{}", utc(event.created)));
        line(&mut out, &format!("LAST-MODIFIED:{}", utc(event.last_modified)));
        line(&mut out, &format!("SEQUENCE:{}", event.sequence));
        line(&mut out, &format!("STATUS:{}", event.status.as_str()));
        line(&mut out, &format!("SUMMARY:{}", text(&event.summary)));
        if let Some(description) = &event.description {
            line(&mut out, &format!("DESCRIPTION:{}", text(description)));
        }
        if let Some(url) = &event.url {
            // A URI value is not TEXT: no escaping, but no line breaks either.
            line(&mut out, &format!("URL:{}", url.replace(['\r', '\n'], "")));
        }
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// `20270328T080000Z`: UTC, whole seconds.
fn utc(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (§3.3.11): backslash, semicolon and comma escaped, line
/// breaks as `\n`, other control characters dropped (they are not allowed).
fn text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => escaped.push_str("\\n"),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Appends `content` as one content line, folded (§3.1): no line longer
/// than 75 octets, continuation lines starting with a space, never splitting
/// a UTF-8 character.
fn line(out: &mut String, content: &str) {
    let mut room = 75;
    for c in content.chars() {
        if c.len_utf8() > room {
            out.push_str("\r\n ");
            room = 74;
        }
        out.push(c);
        room -= c.len_utf8();
    }
    let _ = out.write_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        let at: Timestamp = "2027-03-27T09:00:00Z".parse().expect("an instant");
        Event {
            uid: "0190b5c4-0000-7000-8000-000000000001@justbookme".into(),
            sequence: 2,
            status: EventStatus::Confirmed,
            start: at,
            end: at + jiff::SignedDuration::from_hours(1),
            created: at,
            last_modified: at,
            summary: "Haircut, short; \\ with Anna".into(),
            description: Some("line one\r\nline two".into()),
            url: None,
        }
    }

    #[test]
    fn text_values_are_escaped_and_times_are_utc() {
        let at: Timestamp = "2027-03-20T12:00:00Z".parse().expect("an instant");
        let ics = calendar("Anna", &[event()], at);
        assert!(ics.contains("\r\nDTSTART:20270327T090000Z\r\n"), "{ics}");
        assert!(ics.contains("\r\nDTSTAMP:20270320T120000Z\r\n"), "{ics}");
        assert!(ics.contains("SUMMARY:Haircut\\, short\\; \\\\ with Anna\r\n"), "{ics}");
        assert!(ics.contains("DESCRIPTION:line one\\nline two\r\n"), "{ics}");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "every line ends with CRLF");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut long = event();
        long.summary = "Стрижка и укладка 💇 ".repeat(20);
        let ics = calendar("Anna", &[long.clone()], Timestamp::UNIX_EPOCH);
        for physical in ics.split("\r\n") {
            assert!(physical.len() <= 75, "{} octets: {physical}", physical.len());
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", text(&long.summary))));
    }
}
