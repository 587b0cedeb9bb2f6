//! The bot's conversation: `/start`, `/bookings`, `/privacy`, the rights of
//! policy §8 (`/mydata`, `/delete`, `/restrict`, `/unrestrict`), support
//! (`/support`, `/done`; see [`super::support`]), `/help`, and the inline
//! buttons (Confirm / Decline for providers, Cancel for clients), which act
//! through the provider's calendar actor like the API does, and the
//! confirmation of `/delete`.

use actors::domain::{BookingId, UserId};
use std::sync::Arc;

use actors::{
    calendar::{CalendarError, Calendars, ChangeBooking},
    domain::{Action, Actor, TransitionError},
};
use jiff::{SignedDuration, Timestamp};
use teloxide::{
    dispatching::{HandlerExt, UpdateFilterExt, UpdateHandler},
    dptree,
    payloads::{AnswerCallbackQuerySetters, EditMessageTextSetters, SendDocumentSetters, SendMessageSetters},
    prelude::Requester,
    types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update, WebAppInfo},
    utils::command::BotCommands,
};
use uuid::Uuid;

use super::{
    TgBot, support,
    texts::{self, Lang},
};
use crate::{
    rate_limit::RateLimiter,
    store::{Store, UserChanges},
};

#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// Open the app (with a provider's slug: their booking page; with
    /// `support`: start a support conversation).
    Start(String),
    /// Your upcoming bookings.
    Bookings,
    /// How we handle your data.
    Privacy,
    /// Everything we keep about you, as a JSON file (policy §8: access).
    MyData,
    /// Delete your account (asks to confirm with a button).
    Delete,
    /// Restrict the processing of your data (policy §8): no more messages.
    Restrict,
    /// Lift that restriction.
    Unrestrict,
    /// Write to our support team: your next messages go to them.
    Support,
    /// End the support conversation.
    Done,
    /// What the bot can do.
    Help,
}

/// `/start support` (the Mini App's "Contact support" link) opens support.
const SUPPORT_START: &str = "support";
/// Callback data of `/delete`'s buttons: `delete:<user id>`, `keep:<user id>`.
const DELETE: &str = "delete";
const KEEP: &str = "keep";

pub struct BotContext {
    pub store: Arc<dyn Store>,
    pub calendars: Calendars,
    pub public_url: Option<url::Url>,
    pub privacy_policy: String,
    /// Support writes are rate-limited per Telegram user.
    pub limiter: Arc<RateLimiter>,
    /// `SUPPORT_CHAT_ID`: the operators' chat, if any.
    pub support_chat: Option<i64>,
    /// `SUPPORT_MESSAGES_PER_DAY`: what one user may write in 24 hours.
    pub support_messages_per_day: usize,
}

pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .branch(Update::filter_message().filter_command::<Command>().endpoint(on_command))
        .branch(Update::filter_message().endpoint(support::on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
}

/// The Mini App's address, opened on `slug`'s booking page if given.
pub fn app_url(public_url: &url::Url, slug: Option<&str>) -> url::Url {
    let mut url = public_url.clone();
    if let Some(slug) = slug {
        url.query_pairs_mut().append_pair("startapp", slug);
    }
    url
}

async fn on_command(bot: TgBot, msg: Message, command: Command, ctx: Arc<BotContext>) -> anyhow::Result<()> {
    let Some(from) = msg.from.as_ref() else { return Ok(()) };
    let lang = Lang::of(from.language_code.as_deref());
    match command {
        Command::Start(argument) if argument.trim() == SUPPORT_START => support::open(&bot, &msg, from, &ctx).await?,
        Command::Start(argument) => {
            let slug = argument.trim();
            let provider = if slug.is_empty() { None } else { ctx.store.provider_by_slug(slug).await? };
            let text = texts::welcome(lang, provider.as_ref().map(|p| p.profile.display_name.as_str()));
            let mut request = bot.send_message(msg.chat.id, text);
            if let Some(public_url) = &ctx.public_url {
                let url = app_url(public_url, provider.as_ref().map(|p| p.profile.slug.as_str()));
                request = request.reply_markup(InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::web_app(
                    texts::open_app(lang),
                    WebAppInfo { url },
                )]]));
            }
            request.await?;
        }
        Command::Bookings => {
            let now = Timestamp::now();
            let user = ctx.store.user_by_telegram_id(from.id.0 as i64).await?;
            let reader = user.as_ref().and_then(|user| user.zone());
            let mut upcoming = match &user {
                Some(user) => ctx.store.client_bookings(user.id).await?,
                None => Vec::new(),
            };
            upcoming.retain(|d| d.booking.status.is_active() && d.booking.start > now);
            upcoming.sort_by_key(|d| d.booking.start);
            if upcoming.is_empty() {
                bot.send_message(msg.chat.id, texts::no_bookings(lang)).await?;
                return Ok(());
            }
            let mut lines = Vec::new();
            let mut buttons = Vec::new();
            for details in upcoming.iter().take(20) {
                let when = texts::when(details, lang, reader.as_ref());
                lines.push(format!("• {} — {}, {when}", details.provider_name, details.service_name));
                // The button stays short: the provider's time, zone named.
                let when = texts::when(details, lang, None);
                let cutoff = match ctx.store.provider_by_slug(&details.provider_slug).await? {
                    Some(provider) => i64::from(provider.profile.rules.cancel_cutoff_min),
                    None => continue,
                };
                if details.booking.start - now >= SignedDuration::from_mins(cutoff) {
                    buttons.push(vec![InlineKeyboardButton::callback(
                        format!("{}: {when}", texts::button(lang, Action::Cancel)),
                        format!("cancel:{}", details.booking.id),
                    )]);
                }
            }
            let mut request = bot.send_message(msg.chat.id, lines.join("\n"));
            if !buttons.is_empty() {
                request = request.reply_markup(InlineKeyboardMarkup::new(buttons));
            }
            request.await?;
        }
        Command::Privacy => {
            // Telegram caps a message at 4096 characters.
            let chars: Vec<char> = ctx.privacy_policy.chars().collect();
            for chunk in chars.chunks(4000) {
                bot.send_message(msg.chat.id, chunk.iter().collect::<String>()).await?;
            }
        }
        Command::Restrict | Command::Unrestrict => {
            let restrict = matches!(command, Command::Restrict);
            let text = match ctx.store.user_by_telegram_id(from.id.0 as i64).await? {
                Some(user) => {
                    let changes = UserChanges { processing_restricted: Some(restrict), ..UserChanges::default() };
                    ctx.store.update_user(user.id, &changes, Timestamp::now()).await?;
                    texts::restricted(lang, restrict)
                }
                None => texts::no_account(lang),
            };
            bot.send_message(msg.chat.id, text).await?;
        }
        Command::MyData => match ctx.store.user_by_telegram_id(from.id.0 as i64).await? {
            Some(user) => {
                let export = crate::export::export(&*ctx.store, &user).await?;
                let file = InputFile::memory(serde_json::to_vec_pretty(&export)?).file_name(crate::export::FILE_NAME);
                bot.send_document(msg.chat.id, file).caption(texts::my_data(lang)).await?;
            }
            None => {
                bot.send_message(msg.chat.id, texts::no_account(lang)).await?;
            }
        },
        Command::Delete => match ctx.store.user_by_telegram_id(from.id.0 as i64).await? {
            // The buttons name the account: only its owner's press counts,
            // and only once (afterwards the account is gone).
            Some(user) => {
                let (delete, keep) = texts::delete_buttons(lang);
                let buttons = InlineKeyboardMarkup::new(vec![vec![
                    InlineKeyboardButton::callback(delete, format!("{DELETE}:{}", user.id)),
                    InlineKeyboardButton::callback(keep, format!("{KEEP}:{}", user.id)),
                ]]);
                bot.send_message(msg.chat.id, texts::delete_question(lang)).reply_markup(buttons).await?;
            }
            None => {
                bot.send_message(msg.chat.id, texts::no_account(lang)).await?;
            }
        },
        Command::Support => support::open(&bot, &msg, from, &ctx).await?,
        Command::Done => support::done(&bot, &msg, from, &ctx).await?,
        Command::Help => {
            bot.send_message(msg.chat.id, texts::help(lang)).await?;
        }
    }
    Ok(())
}

async fn on_callback(bot: TgBot, query: CallbackQuery, ctx: Arc<BotContext>) -> anyhow::Result<()> {
    let lang = Lang::of(query.from.language_code.as_deref());
    let is_deletion =
        query.data.as_deref().and_then(|d| d.split_once(':')).is_some_and(|(n, _)| [DELETE, KEEP].contains(&n));
    // Past the cut-off the answer is an alert: it asks the user to act.
    let (outcome, alert): (Result<String, String>, bool) = if is_deletion {
        let deleted = handle_deletion_button(&query, &ctx).await;
        (
            deleted
                .map(|d| texts::delete_outcome(lang, d).to_owned())
                .map_err(|()| texts::delete_stale(lang).to_owned()),
            false,
        )
    } else {
        match handle_button(&query, &ctx).await {
            Ok(action) => (Ok(texts::done(lang, action).to_owned()), false),
            Err(ButtonRefused::PastCutoff(minutes)) => (Err(texts::past_cutoff(lang, minutes)), true),
            Err(ButtonRefused::Stale) => (Err(texts::stale(lang).to_owned()), false),
            Err(ButtonRefused::Taken) => (Err(texts::proposal_taken(lang).to_owned()), true),
            Err(ButtonRefused::Blocked) => (Err(texts::blocked(lang).to_owned()), true),
            Err(ButtonRefused::Started) => (Err(texts::already_started(lang).to_owned()), false),
        }
    };
    let answer = match &outcome {
        Ok(text) | Err(text) => text.clone(),
    };
    bot.answer_callback_query(query.id.clone()).text(answer.clone()).show_alert(alert).await?;
    if outcome.is_ok()
        && let Some(message) = query.regular_message()
    {
        let original = message.text().unwrap_or_default();
        let edit = bot.edit_message_text(message.chat.id, message.id, format!("{original}\n\n{answer}"));
        // "I'm coming" leaves the reminder's other buttons (Reschedule, Cancel) in place.
        match message.reply_markup().and_then(|markup| without_attend(markup, query.data.as_deref())) {
            Some(kept) => edit.reply_markup(kept).await?,
            None => edit.await?,
        };
    }
    Ok(())
}

/// A reminder's keyboard less its "I'm coming" row, when that is what was
/// pressed and other buttons remain; `None` otherwise (the edit drops them all).
fn without_attend(markup: &InlineKeyboardMarkup, pressed: Option<&str>) -> Option<InlineKeyboardMarkup> {
    let prefix = format!("{}:", Action::Attend.as_str());
    if !pressed.is_some_and(|data| data.starts_with(&prefix)) {
        return None;
    }
    let is_attend = |button: &InlineKeyboardButton| match &button.kind {
        teloxide::types::InlineKeyboardButtonKind::CallbackData(data) => data.starts_with(&prefix),
        _ => false,
    };
    let rows: Vec<Vec<InlineKeyboardButton>> = markup
        .inline_keyboard
        .iter()
        .map(|row| row.iter().filter(|b| !is_attend(b)).cloned().collect::<Vec<_>>())
        .filter(|row| !row.is_empty())
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// Why a booking button did nothing.
enum ButtonRefused {
    /// Already handled, not the presser's, or not understood.
    Stale,
    /// A client's cancel past the provider's cut-off (minutes before the visit).
    PastCutoff(u32),
    /// An accepted proposal whose time someone else booked first (or that
    /// is no longer offered).
    Taken,
    /// The client is blocked by this provider.
    Blocked,
    /// "I'm coming" once the visit began.
    Started,
}

/// Applies the button's action.
async fn handle_button(query: &CallbackQuery, ctx: &BotContext) -> Result<Action, ButtonRefused> {
    use ButtonRefused::Stale;
    let data = query.data.as_deref().ok_or(Stale)?;
    let (name, rest) = data.split_once(':').ok_or(Stale)?;
    // `accept-proposal:<id>:<unix seconds>` names the time the client saw.
    let (id, seen) = match rest.split_once(':') {
        Some((id, secs)) => (id, Some(secs.parse().ok().and_then(|s| Timestamp::from_second(s).ok()).ok_or(Stale)?)),
        None => (rest, None),
    };
    // The provider's answers to a request; the client's to a reminder or a proposal.
    let by_provider = [Action::Confirm, Action::Decline];
    let by_client = [Action::Cancel, Action::AcceptProposal, Action::DeclineProposal, Action::Attend];
    let action = by_provider.into_iter().chain(by_client).find(|a| a.as_str() == name).ok_or(Stale)?;
    let booking_id = BookingId(Uuid::parse_str(id).map_err(|_| Stale)?);
    let user = ctx.store.user_by_telegram_id(query.from.id.0 as i64).await.ok().flatten().ok_or(Stale)?;
    let (provider_id, actor) = if by_client.contains(&action) {
        let details = ctx.store.booking_of_client(user.id, booking_id).await.ok().flatten().ok_or(Stale)?;
        let provider_id = details.booking.provider_id;
        // Taking a time is booking: a client the provider blocked books nothing (as over HTTP).
        if action == Action::AcceptProposal && ctx.store.blocks(provider_id, user.id).await.map_err(|_| Stale)? {
            return Err(ButtonRefused::Blocked);
        }
        (provider_id, Actor::Client(user.id))
    } else {
        (ctx.store.provider_of_user(user.id).await.ok().flatten().ok_or(Stale)?.id, Actor::Provider)
    };
    let change =
        ChangeBooking { booking_id, actor, action, new_start: seen, by_user: Some(user.id), now: Timestamp::now() };
    match ctx.calendars.send(provider_id, change).await {
        Ok(_) => Ok(action),
        Err(CalendarError::Transition(TransitionError::PastCutoff(minutes))) => Err(ButtonRefused::PastCutoff(minutes)),
        Err(
            CalendarError::Transition(TransitionError::WrongStatus(..) | TransitionError::NoProposal)
            | CalendarError::NotFound(_),
        ) => Err(Stale),
        Err(CalendarError::Transition(TransitionError::AlreadyStarted)) => Err(ButtonRefused::Started),
        // The proposed time went to someone else, or is no longer offered.
        Err(CalendarError::SlotTaken | CalendarError::ClassFull | CalendarError::NotBookable(_)) => {
            Err(ButtonRefused::Taken)
        }
        Err(error) => {
            tracing::warn!(%error, "bot button failed");
            Err(Stale)
        }
    }
}

/// The Confirm (`Ok(true)`) or keep (`Ok(false)`) button of `/delete`;
/// `Err(())` when the presser is not the account the button names, or the
/// account is already gone (a second press).
async fn handle_deletion_button(query: &CallbackQuery, ctx: &BotContext) -> Result<bool, ()> {
    let (name, id) = query.data.as_deref().and_then(|data| data.split_once(':')).ok_or(())?;
    let named = UserId(Uuid::parse_str(id).map_err(|_| ())?);
    let user = ctx.store.user_by_telegram_id(query.from.id.0 as i64).await.ok().flatten().ok_or(())?;
    if user.id != named {
        return Err(());
    }
    if name == KEEP {
        return Ok(false);
    }
    match crate::account::delete(&*ctx.store, user.id, "bot").await {
        Ok(()) => Ok(true),
        Err(error) => {
            tracing::warn!(%error, "bot: account deletion failed");
            Err(())
        }
    }
}
