//! Everything held about a user (privacy policy §8: access), built once for
//! both ways of asking: `GET /api/me/export` and the bot's `/mydata`.

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{Client, Store, StoreResult, User};
use crate::views::{
    AccessEntryView, BookingView, ClientCardView, ProviderView, ScheduleView, ServiceView, SupportMessageView,
    UserView, WaitlistView,
};

/// The file name both ways of asking give the document.
pub const FILE_NAME: &str = "justbookme-export.json";

/// Everything held about the signed-in user.
#[derive(Serialize, ToSchema)]
pub struct ExportView {
    pub exported_at: String,
    pub account: UserView,
    pub provider: Option<ProviderView>,
    pub services: Vec<ServiceView>,
    pub schedule: Option<ScheduleView>,
    pub bookings_as_client: Vec<BookingView>,
    /// The provider's client book, each client with their visits.
    pub client_book: Vec<ClientCardView>,
    /// What the user wrote to support and the answers, oldest first.
    pub support_messages: Vec<SupportMessageView>,
    /// My access log (policy §2), newest first, as long as it is kept.
    pub access_log: Vec<AccessEntryView>,
    /// The days I wait for a time to free up on.
    pub waitlist: Vec<WaitlistView>,
}

/// The export of `user`, read now.
pub async fn export(store: &dyn Store, user: &User) -> StoreResult<ExportView> {
    let provider = store.provider_of_user(user.id).await?;
    let (mut services, mut schedule, mut client_book) = (Vec::new(), None, Vec::new());
    if let Some(provider) = &provider {
        services = store.services(provider.id, true).await?.iter().map(ServiceView::from).collect();
        schedule = Some(ScheduleView::from(&store.schedule(provider.id).await?));
        for client in store.clients(provider.id, None).await? {
            client_book.push(client_card(store, &client).await?);
        }
    }
    let bookings_as_client = store.client_bookings(user.id).await?.iter().map(BookingView::from).collect();
    let support_messages = store.support_messages(user.id).await?.iter().map(SupportMessageView::from).collect();
    // Bounded only by the retention.
    let access_log = store.access_log(user.id, i64::MAX).await?.iter().map(AccessEntryView::from).collect();
    let waitlist = store.my_waitlist(user.id, jiff::civil::date(2000, 1, 1)).await?;
    let waitlist = waitlist.iter().map(|details| WaitlistView::new(details, false)).collect();
    Ok(ExportView {
        exported_at: Timestamp::now().to_string(),
        account: UserView::from(user),
        provider: provider.as_ref().map(ProviderView::from),
        services,
        schedule,
        bookings_as_client,
        client_book,
        support_messages,
        access_log,
        waitlist,
    })
}

/// A client of the provider's book with their visits, newest first.
pub async fn client_card(store: &dyn Store, client: &Client) -> StoreResult<ClientCardView> {
    let history = store.client_history(client.provider_id, client.id).await?;
    Ok(ClientCardView::new(client, &history))
}
