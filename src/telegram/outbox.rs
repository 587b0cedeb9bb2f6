//! The outbox dispatcher: an actor that claims due messages (booking pushes
//! and reminders), sends them through teloxide's `Throttle` and records the
//! outcome.
//!
//! - At most once: a row is claimed (`sending`) before the send and marked
//!   `sent` after; one left `sending` by a dead node is later marked failed.
//! - 429: due again after Telegram's `retry_after`. 403 (blocked, deactivated,
//!   cannot initiate): the user is marked unreachable, their waiting messages
//!   are skipped. Other failures: exponential backoff, up to 8 attempts.
//! - A reminder claimed after its visit started is skipped; one whose visit is
//!   still ahead goes out late, once.
//! - One message per recipient at a time, across nodes (the claim takes a
//!   recipient's next message only once none of theirs is being sent): a
//!   busy chat's backlog (Telegram allows a chat about 20 messages a minute)
//!   never fills the dispatcher while everyone else's messages wait behind
//!   it, and after a 403 the rest of that chat's queue is skipped at once.
//! - Stopping: no new claims; a claimed message not yet sent is released
//!   (pending, due now); sends already handed to Telegram get the grace time.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix::{Actor, ActorFutureExt, AsyncContext, Context, Handler, Message, fut};
use actors::calendar::{BookingEventKind, notices::NoticeKind};
use actors::domain::{Action, BookingId, BookingStatus, ProviderTimeZone};
use jiff::{SignedDuration, Timestamp};
use teloxide::{
    ApiError, RequestError,
    payloads::SendMessageSetters,
    prelude::Requester,
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo},
};

use super::{
    TgBot,
    texts::{self, Lang},
};
use crate::store::{BookingDetails, MessageOutcome, OutboxContent, OutboxMessage, Store};

/// Messages claimed per round; the Throttle paces the actual sending.
const BATCH: i64 = 100;
/// Sends in flight at once. Each message is its own task, so one chat held
/// back by Telegram's per-chat limit does not hold up the others.
const IN_FLIGHT: usize = 400;
const POLL_EVERY: Duration = Duration::from_millis(500);
const LEASE: SignedDuration = SignedDuration::from_mins(10);
const MAX_ATTEMPTS: i64 = 8;

pub struct OutboxDispatcher {
    busy: bool,
    shared: Arc<Shared>,
}

/// What the dispatcher and its send tasks share.
struct Shared {
    store: Arc<dyn Store>,
    bot: TgBot,
    in_flight: Arc<AtomicUsize>,
    stopping: AtomicBool,
    /// `PUBLIC_URL`: where the policy is read ("policy updated") and the
    /// Mini App opens from a button ("book again").
    public_url: Option<url::Url>,
}

/// Something new may be due (a booking change just committed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Nudge;

impl OutboxDispatcher {
    pub fn new(store: Arc<dyn Store>, bot: TgBot, public_url: Option<url::Url>) -> Self {
        let shared = Shared { store, bot, in_flight: Arc::default(), stopping: AtomicBool::new(false), public_url };
        Self { busy: false, shared: Arc::new(shared) }
    }

    /// One drain: claim and send until nothing is due. Rounds never overlap.
    fn drain(&mut self, ctx: &mut Context<Self>) {
        if self.busy || self.shared.stopping.load(Ordering::Acquire) {
            return;
        }
        self.busy = true;
        let shared = self.shared.clone();
        let work = async move {
            loop {
                if shared.stopping.load(Ordering::Acquire) {
                    return;
                }
                if shared.in_flight.load(Ordering::Acquire) + BATCH as usize > IN_FLIGHT {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                let now = Timestamp::now();
                let batch = match shared.store.claim_due_messages(now, now + LEASE, BATCH).await {
                    Ok(batch) => batch,
                    Err(error) => {
                        tracing::warn!(%error, "outbox: cannot claim messages");
                        return;
                    }
                };
                if batch.is_empty() {
                    return;
                }
                tracing::debug!(
                    claimed = batch.len(),
                    in_flight = shared.in_flight.load(Ordering::Acquire),
                    "outbox: claimed"
                );
                for message in batch {
                    let shared = shared.clone();
                    shared.in_flight.fetch_add(1, Ordering::AcqRel);
                    actix_web::rt::spawn(async move {
                        deliver(&shared, message).await;
                        shared.in_flight.fetch_sub(1, Ordering::AcqRel);
                    });
                }
            }
        };
        ctx.spawn(fut::wrap_future::<_, Self>(work).map(|(), dispatcher, _| dispatcher.busy = false));
    }
}

impl Actor for OutboxDispatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(POLL_EVERY, |dispatcher, ctx| dispatcher.drain(ctx));
    }
}

impl Handler<Nudge> for OutboxDispatcher {
    type Result = ();
    fn handle(&mut self, _: Nudge, ctx: &mut Context<Self>) {
        self.drain(ctx);
    }
}

/// The node is stopping: claim nothing more, release what has not been
/// handed to Telegram yet. The answer tells how many sends are still out.
#[derive(Message)]
#[rtype(result = "Arc<AtomicUsize>")]
pub struct Stop;

impl Handler<Stop> for OutboxDispatcher {
    type Result = actix::MessageResult<Stop>;
    fn handle(&mut self, _: Stop, _: &mut Context<Self>) -> Self::Result {
        self.shared.stopping.store(true, Ordering::Release);
        actix::MessageResult(self.shared.in_flight.clone())
    }
}

async fn deliver(shared: &Shared, message: OutboxMessage) {
    let store = &shared.store;
    let recorded = match attempt(shared, &message).await {
        Attempt::Done(outcome) => store.finish_message(message.id, outcome, Timestamp::now()).await,
        Attempt::RetryIn(wait, error) => store.retry_message(message.id, Timestamp::now() + wait, &error).await,
    };
    if let Err(error) = recorded {
        tracing::warn!(%error, message = %message.id, "outbox: cannot record the outcome");
    }
}

enum Attempt {
    Done(MessageOutcome),
    RetryIn(SignedDuration, String),
}

async fn attempt(shared: &Shared, message: &OutboxMessage) -> Attempt {
    let Shared { store, bot, stopping, public_url, .. } = shared;
    let policy_url = public_url.as_ref().and_then(|url| url.join("privacy").ok());
    let skip = |why: &str| Attempt::Done(MessageOutcome::Skipped(why.to_owned()));
    let recipient = match store.bot_recipient(message.recipient_id).await {
        Ok(Some(recipient)) => recipient,
        Ok(None) => return skip("the user no longer exists"),
        Err(error) => return Attempt::RetryIn(SignedDuration::from_secs(5), error.to_string()),
    };
    if recipient.blocked {
        return skip("the bot cannot reach this user");
    }
    let lang = Lang::of(recipient.language_code.as_deref());
    let reader = recipient.zone();
    let (text, keyboard) = match &message.content {
        OutboxContent::Notice { kind, booking_id } => match store.booking_by_id(*booking_id).await {
            Ok(Some(details)) => match notice(message, *kind, &details, lang, reader.as_ref(), public_url.as_ref()) {
                Ok(worded) => worded,
                Err(why) => return skip(why),
            },
            Ok(None) => return skip("the booking no longer exists"),
            Err(error) => return Attempt::RetryIn(SignedDuration::from_secs(5), error.to_string()),
        },
        OutboxContent::Text(text) => (text.clone(), None),
        OutboxContent::PolicyUpdated(version) => (texts::policy_updated(lang, version, policy_url.as_ref()), None),
        // Worded when offered; the button opens the booking screen on that slot.
        OutboxContent::Offer { text, provider_slug, service_id, start } => {
            let params = [("service", service_id.to_string()), ("start", start.as_second().to_string())];
            let book = mini_app_button(public_url.as_ref(), provider_slug, &params, texts::book_offer(lang));
            (text.clone(), book.map(|book| InlineKeyboardMarkup::new([[book]])))
        }
    };
    // The last moment a claim can be handed back: past it, the message may
    // reach Telegram, and it must never be sent twice.
    if stopping.load(Ordering::Acquire) {
        return Attempt::RetryIn(SignedDuration::ZERO, "released: the node stopped before sending".into());
    }
    let mut request = bot.send_message(ChatId(recipient.telegram_id), text);
    if let Some(keyboard) = keyboard {
        request = request.reply_markup(keyboard);
    }
    match request.await {
        Ok(_) => Attempt::Done(MessageOutcome::Sent),
        Err(RequestError::RetryAfter(wait)) => {
            Attempt::RetryIn(SignedDuration::from_secs(wait.seconds().into()), "429: Telegram asked us to wait".into())
        }
        Err(RequestError::Api(error)) if unreachable(&error) => {
            let reason = error.to_string();
            if let Err(e) = store.mark_bot_blocked(message.recipient_id, &reason, Timestamp::now()).await {
                tracing::warn!(error = %e, "outbox: cannot mark the user unreachable");
            }
            Attempt::Done(MessageOutcome::Failed(reason))
        }
        Err(error) if message.attempts >= MAX_ATTEMPTS => Attempt::Done(MessageOutcome::Failed(error.to_string())),
        Err(error) => {
            Attempt::RetryIn(SignedDuration::from_secs(1 << message.attempts.clamp(0, 10)), error.to_string())
        }
    }
}

/// A booking's push or reminder, worded from the booking as it is now; `Err`
/// says why it is no longer worth sending.
fn notice(
    message: &OutboxMessage,
    kind: NoticeKind,
    details: &BookingDetails,
    lang: Lang,
    reader: Option<&ProviderTimeZone>,
    public_url: Option<&url::Url>,
) -> Result<(String, Option<InlineKeyboardMarkup>), &'static str> {
    let booking = &details.booking;
    let to_provider = Some(message.recipient_id) != booking.client_user_id;
    let NoticeKind::Push(event) = kind else {
        if !booking.status.is_active() {
            return Err("the booking is no longer active");
        }
        if booking.start <= Timestamp::now() {
            return Err("the visit already started");
        }
        return Ok((texts::reminder(details, lang, reader), Some(reminder_buttons(details, lang, public_url))));
    };
    let text = texts::push(event, details, to_provider, lang, reader);
    let awaiting_answer = to_provider && event == BookingEventKind::Created && booking.status == BookingStatus::Pending;
    let button = |a: Action| action_button(lang, a, booking.id);
    // A proposal is answered from the chat while it still stands.
    let proposal_open = !to_provider && event == BookingEventKind::Proposed && booking.proposed_start.is_some();
    let keyboard = if awaiting_answer {
        Some(InlineKeyboardMarkup::new([[Action::Confirm, Action::Decline].map(button)]))
    } else if proposal_open {
        // Accept names the proposed time, so a press under an outdated
        // proposal accepts nothing (`accept-proposal:<id>:<unix seconds>`, 63 bytes of Telegram's 64).
        let seen = booking.proposed_start.map_or(0, |start| start.as_second());
        let accept = InlineKeyboardButton::callback(
            texts::button(lang, Action::AcceptProposal),
            format!("{}:{}:{seen}", Action::AcceptProposal.as_str(), booking.id),
        );
        Some(InlineKeyboardMarkup::new([[accept, button(Action::DeclineProposal)]]))
    } else {
        None
    };
    // After a visit, "Book again" opens the Mini App on the same service's live slots.
    let again = (!to_provider && event == BookingEventKind::Completed)
        .then(|| {
            let service = ("service", booking.service_id.to_string());
            mini_app_button(public_url, &details.provider_slug, &[service], texts::book_again(lang))
        })
        .flatten()
        .map(|again| InlineKeyboardMarkup::new([[again]]));
    Ok((text, keyboard.or(again)))
}

/// Under a reminder: "I'm coming" (shown on the provider's agenda; gone
/// once said), "Reschedule" opens the move in the Mini App, "Cancel"
/// cancels from the chat — past the provider's cut-off the bot answers why
/// it cannot.
fn reminder_buttons(details: &BookingDetails, lang: Lang, public_url: Option<&url::Url>) -> InlineKeyboardMarkup {
    let booking = &details.booking;
    let coming = booking.attendance_confirmed_at.is_none().then(|| action_button(lang, Action::Attend, booking.id));
    let moving = ("reschedule", booking.id.to_string());
    let reschedule = mini_app_button(public_url, &details.provider_slug, &[moving], texts::reschedule_button(lang));
    let cancel = action_button(lang, Action::Cancel, booking.id);
    let second_row = reschedule.into_iter().chain([cancel]).collect::<Vec<_>>();
    InlineKeyboardMarkup::new(coming.map(|coming| vec![coming]).into_iter().chain([second_row]))
}

/// A button that acts on a booking from the chat; its data is what
/// `bot::handle_button` parses: `<action>:<booking id>`.
fn action_button(lang: Lang, action: Action, booking_id: BookingId) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(texts::button(lang, action), format!("{}:{booking_id}", action.as_str()))
}

/// A Web App button opening the Mini App on `slug`'s page with `param`
/// beside it (the app goes on from there); `None` without PUBLIC_URL's
/// https address, which Telegram requires of a Web App.
fn mini_app_button(
    public_url: Option<&url::Url>,
    slug: &str,
    params: &[(&str, String)],
    label: &str,
) -> Option<InlineKeyboardButton> {
    let mut url = super::bot::app_url(public_url.filter(|url| url.scheme() == "https")?, Some(slug));
    for (name, value) in params {
        url.query_pairs_mut().append_pair(name, value);
    }
    Some(InlineKeyboardButton::web_app(label, WebAppInfo { url }))
}

/// Telegram's 403s: the user cannot be messaged until they come back.
fn unreachable(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::BotBlocked
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::BotKicked
    ) || error.to_string().starts_with("Forbidden")
}
