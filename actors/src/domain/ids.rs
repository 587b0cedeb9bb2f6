//! Typed ids. Users, providers, client-book entries, bookings and services
//! are all UUIDs, and a bare `Uuid` lets one pass for another: a client's
//! *user* id and their *client-book* id used to be swappable. On the wire and
//! in the database each is the plain UUID (`serde(transparent)`).

use std::fmt;

use uuid::Uuid;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

ids! {
    /// A Telegram user's account.
    UserId;
    /// A provider profile (not the user who owns it).
    ProviderId;
    /// An entry of a provider's client book (not the client's user account).
    ClientId;
    BookingId;
    ServiceId;
}
