//! Provider calendars as actors: one supervised `CalendarActor` per provider
//! serializes that provider's slot allocation; the registry starts, routes to
//! and retires them.

mod actor;
mod error;
pub mod messages;
pub mod notices;
mod ports;
mod registry;

pub use actor::CalendarActor;
pub use error::CalendarError;
#[cfg(feature = "test-faults")]
pub use messages::Fault;
pub use messages::{Availability, Book, Booked, Booker, ChangeBooking, GetSlots, Reload};
pub use ports::{
    BookingClient, BookingEventKind, BookingLabels, BookingUpdate, CalendarData, CalendarEvent, CalendarRepository,
    CreatedBooking, EventSink, NewBooking, RepositoryError, ServiceInfo,
};
pub use registry::{CalendarHandle, CalendarRegistry, Calendars, RegistrySettings};
