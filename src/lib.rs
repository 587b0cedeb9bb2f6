//! The Just Book Me server: adapters (HTTP, storage, Telegram) around the pure
//! domain and actors of the `actors` crate, wired together in [`startup`].

pub mod access_log;
pub mod account;
pub mod backup;
pub mod bus;
pub mod client_address;
pub mod config;
pub mod deadlines;
pub mod export;
pub mod http;
pub mod ical;
pub mod letters;
pub mod live;
pub mod memo;
pub mod policy;
pub mod rate_limit;
pub mod retention;
pub mod session;
pub mod startup;
pub mod stats;
pub mod store;
pub mod telegram;
pub mod views;
pub mod waitlist;

/// The parsers a stranger's input reaches, for the `fuzz/` targets only (see
/// README, "Fuzzing"): exactly their entry points, so the HTTP modules stay
/// private to the crate. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::access_log::{UserAgentSummary, describe_user_agent};
    pub use crate::http::bookings::{BookingInput, RescheduleInput, checked as checked_booking};
    pub use crate::http::clients::{ClientInput, ClientPatch, validated as client_fields};
    pub use crate::http::extract::{AGENDA_RANGE, DateRange, date_range, parse_id, parse_instant, parse_query};
    pub use crate::http::json::parse as parse_json;
    pub use crate::http::problem::{ApiError, ApiResult, ProblemType};
    pub use crate::http::provider::{ProviderInput, profile as provider_profile};
    pub use crate::http::schedule::{ScheduleInput, to_schedule};
    pub use crate::http::services::{
        ServiceInput, ServicePatch, new_fields as new_service_fields, patched as patched_service,
    };
    pub use crate::http::validate::{language_code, optional_text, text};
    pub use crate::live::protocol::{ClientMessage, MAX_FRAME_BYTES, MAX_WATCH_DAYS, Refusal, parse as parse_ws_frame};
    pub use crate::store::{ClientFields, ProviderProfile, ServiceFields};
    pub use crate::telegram::init_data::{
        Freshness, InitDataError, VerifiedInitData, WebAppUser, verify_with_bot_token,
    };
}
