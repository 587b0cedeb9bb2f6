//! The JSON bodies of the write endpoints: the strict extractor's parse
//! (one value, nothing after it, errors naming a field), then each body's own
//! checks — schedule, booking, provider profile, services, clients — as the
//! handlers run them before touching the store.
#![no_main]

use actors::domain::BookingRules;
use justbookme::fuzzing::{
    ApiError, ApiResult, BookingInput, ClientInput, ClientPatch, ProblemType, ProviderInput, RescheduleInput,
    ScheduleInput, ServiceFields, ServiceInput, ServicePatch, checked_booking, client_fields, new_service_fields,
    parse_instant, parse_json, patched_service, provider_profile, to_schedule,
};
use justbookme::views::ScheduleView;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

/// The field a refusal blames; every refusal of well-formed JSON names one.
fn blamed(error: &ApiError) -> Option<&str> {
    match error {
        ApiError::Validation(error) => Some(&error.field),
        ApiError::Problem { field, .. } => field.as_deref(),
        _ => None,
    }
}

/// The extractor's parse, with what must hold whatever `T` is: malformed
/// JSON is a 400 without a field, a data error names a non-empty field, and
/// nothing is accepted that serde_json itself would not read as one value.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let result: ApiResult<T> = parse_json(bytes);
    let as_value = serde_json::from_slice::<serde_json::Value>(bytes);
    match result {
        Ok(value) => {
            assert!(as_value.is_ok(), "accepted what serde_json refuses: {:?}", String::from_utf8_lossy(bytes));
            Some(value)
        }
        Err(ApiError::Problem { kind: ProblemType::BadRequest, field: None, .. }) => None,
        Err(ApiError::Validation(error)) => {
            assert!(!error.field.is_empty(), "a data error blaming no field: {error}");
            None
        }
        Err(other) => panic!("the parse failed as {other:?}"),
    }
}

/// A refusal after parsing names the field to fix.
fn refused(error: &ApiError, fields: &[&str]) {
    let field = blamed(error).unwrap_or_else(|| panic!("refused without a field: {error:?}"));
    let root = field.split(['.', '[']).next().unwrap_or(field);
    assert!(fields.contains(&root), "refusal blames {field:?}, not one of {fields:?}: {error:?}");
}

fn is_clean(text: &str, max_chars: usize) -> bool {
    text == text.trim() && !text.is_empty() && text.chars().count() <= max_chars
}

fn schedule(bytes: &[u8]) {
    let Some(input) = parse::<ScheduleInput>(bytes) else { return };
    match to_schedule(input) {
        Ok(schedule) => {
            // What GET answers, PUT accepts as the very same schedule.
            let view = serde_json::to_vec(&ScheduleView::from(&schedule)).expect("a view serializes");
            let again = parse_json::<ScheduleInput>(&view).expect("the schedule's own view parses");
            assert_eq!(to_schedule(again).expect("the schedule's own view is valid"), schedule);
        }
        Err(error) => refused(&error, &["weekly", "overrides"]),
    }
}

fn booking(bytes: &[u8]) {
    let Some(input) = parse::<BookingInput>(bytes) else { return };
    match checked_booking(&input) {
        Ok((start, note)) => {
            assert_eq!(parse_instant("start", &start.to_string()).ok(), Some(start), "start does not round-trip");
            if let Some(note) = note {
                assert!(is_clean(&note, 500), "note {note:?} accepted");
            }
        }
        Err(error) => refused(&error, &["start", "note"]),
    }
}

fn reschedule(bytes: &[u8]) {
    let Some(input) = parse::<RescheduleInput>(bytes) else { return };
    if let Err(error) = parse_instant("start", &input.start) {
        refused(&error, &["start"]);
    }
}

const PROVIDER_FIELDS: [&str; 11] = [
    "slug",
    "display_name",
    "business_name",
    "contacts",
    "timezone",
    "slot_step_min",
    "min_notice_min",
    "horizon_days",
    "cancel_cutoff_min",
    "requires_confirmation",
    "reminder_offsets_min",
];

fn provider(bytes: &[u8]) {
    let Some(input) = parse::<ProviderInput>(bytes) else { return };
    match provider_profile(input, BookingRules::default()) {
        Ok(profile) => {
            profile.rules.validate().expect("accepted rules are valid");
            assert!(is_clean(&profile.display_name, 100));
            let zone = actors::domain::ProviderTimeZone::parse(profile.timezone.name()).expect("its own name parses");
            assert_eq!(zone.name(), profile.timezone.name(), "the zone's name is not canonical");
            actors::domain::Slug::parse(profile.slug.as_str()).expect("an accepted slug parses again");
        }
        Err(error) => refused(&error, &PROVIDER_FIELDS),
    }
}

/// What a stored service's fields satisfy; applying no change keeps them.
fn check_service(fields: ServiceFields) {
    assert!(is_clean(&fields.name, 100));
    if let Some(currency) = &fields.currency {
        assert!(currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()), "currency {currency:?}");
    }
    if let Some(price) = fields.price_minor {
        assert!(price >= 0 && fields.currency.is_some(), "price {price} without currency or below zero");
    }
    assert!((1..=500).contains(&fields.capacity), "capacity {}", fields.capacity);
    let no_change: ServicePatch = parse_json(b"{}").expect("an empty patch");
    assert_eq!(patched_service(no_change, fields.clone()).expect("stored fields stay valid"), fields);
}

const SERVICE_FIELDS: [&str; 7] =
    ["name", "duration_min", "price_minor", "currency", "buffer_before_min", "buffer_after_min", "capacity"];

fn service(bytes: &[u8]) {
    let Some(input) = parse::<ServiceInput>(bytes) else { return };
    match new_service_fields(input) {
        Ok(fields) => check_service(fields),
        Err(error) => refused(&error, &SERVICE_FIELDS),
    }
}

fn service_patch(bytes: &[u8]) {
    let Some(patch) = parse::<ServicePatch>(bytes) else { return };
    let current = ServiceFields {
        name: "Manicure".to_owned(),
        timing: actors::domain::ServiceTiming { duration_min: 60, buffer_before_min: 0, buffer_after_min: 10 },
        price_minor: Some(3_500),
        currency: Some("EUR".to_owned()),
        capacity: 1,
    };
    match patched_service(patch, current) {
        Ok(fields) => check_service(fields),
        Err(error) => refused(&error, &SERVICE_FIELDS),
    }
}

fn client(name: &str, contacts: Option<&str>, notes: Option<&str>) {
    match client_fields(name, contacts, notes) {
        Ok(fields) => {
            assert!(is_clean(&fields.name, 100));
            let again = client_fields(&fields.name, fields.contacts.as_deref(), fields.notes.as_deref());
            assert_eq!(again.expect("accepted fields are accepted again"), fields);
        }
        Err(error) => refused(&error, &["name", "contacts", "notes"]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else { return };
    match kind % 9 {
        0 => schedule(body),
        1 => booking(body),
        2 => reschedule(body),
        3 => provider(body),
        4 => service(body),
        5 => service_patch(body),
        6 => {
            if let Some(input) = parse::<ClientInput>(body) {
                client(&input.name, input.contacts.as_deref(), input.notes.as_deref());
            }
        }
        7 => {
            if let Some(patch) = parse::<ClientPatch>(body) {
                let name = patch.name.unwrap_or_else(|| "Anna".to_owned());
                let contacts = patch.contacts.unwrap_or(Some("+49 30 123456".to_owned()));
                client(&name, contacts.as_deref(), patch.notes.flatten().as_deref());
            }
        }
        // Any JSON at all, as the extractor sees it.
        _ => {
            parse::<serde_json::Value>(body);
        }
    }
});
