//! The User-Agent header as the access log reads it (woothee): whatever a
//! client sends, the summary stored and shown to the user is short, clean
//! and one of the known device types.
#![no_main]

use justbookme::fuzzing::describe_user_agent;
use libfuzzer_sys::fuzz_target;

/// woothee's categories, `pc` called `desktop`.
const DEVICES: [&str; 7] = ["desktop", "smartphone", "mobilephone", "appliance", "crawler", "misc", "unknown"];

fuzz_target!(|data: &[u8]| {
    // The middleware reads the header with `to_str`: visible ASCII and tabs.
    if !data.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        return;
    }
    let Ok(user_agent) = std::str::from_utf8(data) else { return };
    let summary = describe_user_agent(user_agent);
    assert!(DEVICES.contains(&summary.device.as_str()), "device {:?}", summary.device);
    for (what, value) in [("browser", &summary.browser), ("os", &summary.os)] {
        assert!(!value.is_empty(), "empty {what}");
        assert!(value.chars().count() <= 64, "{what} {value:?} is {} characters", value.chars().count());
        assert!(!value.chars().any(char::is_control), "{what} {value:?} has a control character");
    }
    assert_eq!(describe_user_agent(user_agent), summary, "the same header read two ways");
});
