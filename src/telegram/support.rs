//! Support through the bot (privacy policy §8 "contact service support", §11
//! "through the Telegram bot interface").
//!
//! `/support` (or `/start support`, what the Mini App's "Contact support"
//! opens) opens a conversation; until `/done`, the user's plain text messages
//! are stored and copied to the operators' chat (`SUPPORT_CHAT_ID`) saying
//! who wrote, with a reply hint. An operator's reply to such a copy goes back
//! to the writer and is stored too. Everything is in the database —
//! conversation state and which copy belongs to whom — so a restart or
//! another node changes nothing. Without `SUPPORT_CHAT_ID` the messages are
//! only stored, and `justbookme support` lists and answers them.

use std::sync::Arc;

use actors::domain::UserId;
use jiff::Timestamp;
use teloxide::{
    Bot,
    prelude::Requester,
    types::{ChatId, Message, User as TelegramUser},
};
use uuid::Uuid;

use super::{
    TgBot,
    bot::BotContext,
    texts::{self, Lang},
};
use crate::{
    config::Config,
    rate_limit::Rule,
    store::{NewSupportMessage, Store, SupportDirection, TelegramProfile, User},
};

/// `/support`: opens the user's conversation (creating their account from
/// the Telegram data of the message if they never opened the app: support
/// is for everyone, and what they write is theirs to export and delete).
pub async fn open(bot: &TgBot, msg: &Message, from: &TelegramUser, ctx: &BotContext) -> anyhow::Result<()> {
    let lang = Lang::of(from.language_code.as_deref());
    if !within_limit(bot, msg, from, ctx, lang).await? {
        return Ok(());
    }
    let now = Timestamp::now();
    let user = match ctx.store.user_by_telegram_id(telegram_id(from)).await? {
        Some(user) => user,
        None => ctx.store.upsert_telegram_user(&profile(from), now).await?,
    };
    ctx.store.open_support(user.id, now).await?;
    bot.send_message(msg.chat.id, texts::support_started(lang)).await?;
    Ok(())
}

/// `/done`: the conversation is finished (the retention purge may take it
/// once it is older than the retention period).
pub async fn done(bot: &TgBot, msg: &Message, from: &TelegramUser, ctx: &BotContext) -> anyhow::Result<()> {
    let lang = Lang::of(from.language_code.as_deref());
    let was_open = match ctx.store.user_by_telegram_id(telegram_id(from)).await? {
        Some(user) => ctx.store.finish_support(user.id, Timestamp::now()).await?,
        None => false,
    };
    bot.send_message(msg.chat.id, texts::support_done(lang, was_open)).await?;
    Ok(())
}

/// Every message that is not one of our commands: an operator's reply in
/// the operators' chat, a support message in a private chat with an open
/// conversation, or else a hint. Other group chats are ignored.
pub async fn on_message(bot: TgBot, msg: Message, ctx: Arc<BotContext>) -> anyhow::Result<()> {
    if ctx.support_chat == Some(msg.chat.id.0) {
        return operator_reply(&bot, &msg, &ctx).await;
    }
    let Some(from) = msg.from.as_ref().filter(|_| msg.chat.is_private()) else { return Ok(()) };
    let lang = Lang::of(from.language_code.as_deref());
    if msg.text().is_some_and(|text| text.starts_with('/')) {
        bot.send_message(msg.chat.id, texts::help(lang)).await?;
        return Ok(());
    }
    let user = ctx.store.user_by_telegram_id(telegram_id(from)).await?;
    let conversation = match &user {
        Some(user) => ctx.store.open_support_conversation(user.id).await?,
        None => None,
    };
    let (Some(user), Some(conversation_id)) = (user, conversation) else {
        bot.send_message(msg.chat.id, texts::support_hint(lang)).await?;
        return Ok(());
    };
    let Some(text) = msg.text() else {
        bot.send_message(msg.chat.id, texts::support_text_only(lang)).await?;
        return Ok(());
    };
    if !within_limit(&bot, &msg, from, &ctx, lang).await? {
        return Ok(());
    }
    if text.chars().count() > MAX_SUPPORT_CHARS {
        bot.send_message(msg.chat.id, texts::support_too_long(lang, MAX_SUPPORT_CHARS)).await?;
        return Ok(());
    }
    if written_today(&*ctx.store, user.id).await? >= ctx.support_messages_per_day as u64 {
        bot.send_message(msg.chat.id, texts::support_day_full(lang)).await?;
        return Ok(());
    }
    let message = NewSupportMessage {
        conversation_id,
        user_id: user.id,
        direction: SupportDirection::In,
        text: text.to_owned(),
        at: Timestamp::now(),
    };
    // Kept first: if the operators' chat cannot be reached, the message is
    // still there for `justbookme support list`.
    let stored = ctx.store.add_support_message(&message).await?;
    let Some(chat) = ctx.support_chat else { return Ok(()) };
    let name = [Some(from.first_name.as_str()), from.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>();
    let writer = texts::SupportWriter {
        name: &name.join(" "),
        username: from.username.as_deref(),
        telegram_id: telegram_id(from),
        user_id: user.id.to_string(),
    };
    match bot.send_message(ChatId(chat), texts::support_copy(&writer, text)).await {
        Ok(copy) => ctx.store.set_support_copy(stored.id, chat, i64::from(copy.id.0)).await?,
        Err(error) => {
            tracing::warn!(%error, "support: SUPPORT_CHAT_ID not reached; the message is kept for `justbookme support`")
        }
    }
    Ok(())
}

/// A message in the operators' chat. A reply to one of the bot's copies is
/// an answer for that copy's writer; the operators' other talk is theirs.
async fn operator_reply(bot: &TgBot, msg: &Message, ctx: &BotContext) -> anyhow::Result<()> {
    let Some(original) = msg.reply_to_message() else { return Ok(()) };
    let lang = Lang::of(msg.from.as_ref().and_then(|f| f.language_code.as_deref()));
    let found = ctx.store.support_message_by_copy(msg.chat.id.0, i64::from(original.id.0)).await?;
    let Some(found) = found else {
        if original.from.as_ref().is_some_and(|author| author.is_bot) {
            bot.send_message(msg.chat.id, texts::support_reply_unknown(lang)).await?;
        }
        return Ok(());
    };
    let Some(text) = msg.text() else {
        bot.send_message(msg.chat.id, texts::support_text_only(lang)).await?;
        return Ok(());
    };
    if let Err(error) = answer(bot, &*ctx.store, found.user_id, found.conversation_id, text).await {
        tracing::warn!(%error, "support: an operator's answer was not delivered");
        bot.send_message(msg.chat.id, texts::support_reply_failed(lang, &error.to_string())).await?;
    }
    Ok(())
}

/// Sends support's answer `text` to `user_id` and stores it (direction out)
/// in `conversation_id`. Sent even while processing is restricted: it
/// answers the user's own request. Nothing is stored if Telegram refused.
pub async fn answer<B>(
    bot: &B,
    store: &dyn Store,
    user_id: UserId,
    conversation_id: Uuid,
    text: &str,
) -> anyhow::Result<()>
where
    B: Requester,
    B::Err: std::error::Error + Send + Sync + 'static,
{
    let user = store.user(user_id).await?.ok_or_else(|| anyhow::anyhow!("the user deleted their account"))?;
    let lang = Lang::of(user.profile.language_code.as_deref());
    bot.send_message(ChatId(user.profile.telegram_id), texts::support_answer(lang, text)).await?;
    let message = NewSupportMessage {
        conversation_id,
        user_id,
        direction: SupportDirection::Out,
        text: text.to_owned(),
        at: Timestamp::now(),
    };
    store.add_support_message(&message).await?;
    Ok(())
}

/// Longest support message kept: Telegram's own limit for a message, so
/// only a forged update can pass it.
const MAX_SUPPORT_CHARS: usize = 4096;

/// Support messages `user_id` wrote in the last 24 hours: the per-day cap
/// bounds what one account can store, whatever the per-minute rate allows.
async fn written_today(store: &dyn Store, user_id: UserId) -> anyhow::Result<u64> {
    let since = Timestamp::now() - jiff::SignedDuration::from_hours(24);
    Ok(store.support_messages_written_since(user_id, since).await?)
}

/// Support writes are limited per Telegram user like every other write;
/// over the limit the user is told, and nothing is stored.
async fn within_limit(
    bot: &TgBot,
    msg: &Message,
    from: &TelegramUser,
    ctx: &BotContext,
    lang: Lang,
) -> anyhow::Result<bool> {
    match ctx.limiter.check(Rule::SupportPerUser, &from.id.0.to_string()).await {
        Ok(()) => Ok(true),
        Err(wait) => {
            bot.send_message(msg.chat.id, texts::support_too_fast(lang, wait.as_secs().max(1))).await?;
            Ok(false)
        }
    }
}

fn telegram_id(from: &TelegramUser) -> i64 {
    from.id.0 as i64
}

fn profile(from: &TelegramUser) -> TelegramProfile {
    TelegramProfile {
        telegram_id: telegram_id(from),
        first_name: from.first_name.clone(),
        last_name: from.last_name.clone(),
        username: from.username.clone(),
        language_code: from.language_code.clone(),
        photo_url: None,
    }
}

/// `justbookme support list`: every open conversation with its messages,
/// the longest waiting first.
pub async fn list(store: &dyn Store, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let conversations = store.open_support_conversations().await?;
    writeln!(out, "{} open support conversation(s)", conversations.len())?;
    for conversation in conversations {
        let Some(user) = store.user(conversation.user_id).await? else { continue };
        writeln!(out)?;
        writeln!(out, "user {} — {}", user.id, describe(&user))?;
        writeln!(out, "opened {}, last activity {}", conversation.opened_at, conversation.last_activity_at)?;
        let messages = store.support_messages(user.id).await?;
        for message in messages.iter().filter(|m| m.conversation_id == conversation.id) {
            let who = match message.direction {
                SupportDirection::In => "user   ",
                SupportDirection::Out => "support",
            };
            writeln!(out, "  {} {who}: {}", message.created_at, message.text)?;
        }
        writeln!(out, "answer: justbookme support reply {} <text>", user.id)?;
    }
    Ok(())
}

fn describe(user: &User) -> String {
    let p = &user.profile;
    let mut text = p.first_name.clone();
    if let Some(last) = &p.last_name {
        text = format!("{text} {last}");
    }
    if let Some(username) = &p.username {
        text = format!("{text} (@{username})");
    }
    format!("{text}, Telegram id {}", p.telegram_id)
}

/// `justbookme support reply USER TEXT`: the bot sends `text` to the user
/// (this process talks to `TELEGRAM_API_URL` with `TELEGRAM_BOT_TOKEN`
/// itself: the answer does not wait for a server), stored in their open
/// conversation or, if none is open, their latest one.
pub async fn reply(config: &Config, store: &dyn Store, user_id: UserId, text: &str) -> anyhow::Result<()> {
    let text = text.trim();
    anyhow::ensure!(!text.is_empty(), "the answer is empty");
    anyhow::ensure!(text.chars().count() <= 4000, "the answer is longer than 4000 characters (Telegram's limit)");
    let token = config
        .telegram_bot_token
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("TELEGRAM_BOT_TOKEN is not set: the bot cannot send the answer"))?;
    // At most one is open, and it is the latest: the open one if any, else the last finished.
    let conversation = store
        .latest_support_conversation(user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {user_id} has no support conversation to answer"))?;
    let bot = Bot::new(token.expose()).set_api_url(config.telegram_api_url.clone());
    answer(&bot, store, user_id, conversation, text).await
}

/// `justbookme support done USER`: the operator finishes the conversation.
pub async fn finish(store: &dyn Store, user_id: UserId) -> anyhow::Result<bool> {
    Ok(store.finish_support(user_id, Timestamp::now()).await?)
}
