//! What the bot says, in the user's language (English and Russian; anything
//! else gets English). Times are shown in the provider's time zone, and also
//! in the reader's own when their clock shows another time then (see [`at`]).

use actors::calendar::BookingEventKind;
use actors::domain::{Action, BookingStatus, ProviderTimeZone};
use jiff::Timestamp;

use crate::store::BookingDetails;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    pub fn of(code: Option<&str>) -> Lang {
        match code.map(|c| c.split('-').next().unwrap_or(c)) {
            Some("ru" | "uk" | "be" | "kk") => Lang::Ru,
            _ => Lang::En,
        }
    }

    /// The English or the Russian of a text.
    fn pick<T>(self, en: T, ru: T) -> T {
        match self {
            Lang::En => en,
            Lang::Ru => ru,
        }
    }
}

/// When a booking starts, for a reader whose device is in `reader`'s zone
/// (`None`: unknown): see [`at`].
pub fn when(details: &BookingDetails, lang: Lang, reader: Option<&ProviderTimeZone>) -> String {
    at(details.booking.start, &details.timezone, reader, lang)
}

/// The proposed start of a request, worded like [`when`] (`when` itself if none).
fn proposed(details: &BookingDetails, lang: Lang, reader: Option<&ProviderTimeZone>) -> String {
    at(details.booking.proposed_start.unwrap_or(details.booking.start), &details.timezone, reader, lang)
}

/// `instant` as the provider's wall time, "Tue 01 Jun 2027, 10:00
/// (Europe/Berlin)", and — when the reader's zone shows another wall time at
/// that instant — the reader's too: "… · 04:00 your time", with their date
/// when it is another day. Wall times are compared, not zone names, so a
/// Parisian reading a Berlin booking sees one time; and each side's offset is
/// taken at `instant` itself, so the gap follows both zones' DST rules (Berlin
/// and New York are 6 h apart most of the year but 5 h for the weeks the US
/// has moved its clocks and Europe has not). Clients arrived hours off when
/// they read a provider's time as their own.
pub fn at(instant: Timestamp, provider: &ProviderTimeZone, reader: Option<&ProviderTimeZone>, lang: Lang) -> String {
    let pattern = lang.pick("%a %d %b %Y, %H:%M", "%d.%m.%Y, %H:%M");
    let theirs = format!("{} ({})", provider.local_text(instant, pattern), provider.name());
    let here = provider.datetime_of(instant);
    let Some(mine) = reader.map(|zone| zone.datetime_of(instant)).filter(|mine| *mine != here) else {
        return theirs;
    };
    let pattern = match mine.date() == here.date() {
        true => "%H:%M",
        false => lang.pick("%a %d %b, %H:%M", "%d.%m, %H:%M"),
    };
    let mine = mine.strftime(pattern);
    match lang {
        Lang::En => format!("{theirs} · {mine} your time"),
        Lang::Ru => format!("{theirs} · {mine} по вашему времени"),
    }
}

/// A push about a booking change, for the recipient's side.
/// `reader`: the recipient's device zone, if known (see [`at`]).
pub fn push(
    event: BookingEventKind,
    details: &BookingDetails,
    to_provider: bool,
    lang: Lang,
    reader: Option<&ProviderTimeZone>,
) -> String {
    use BookingEventKind::*;
    let when = when(details, lang, reader);
    let (service, client, provider) = (&details.service_name, &details.client_name, &details.provider_name);
    match (lang, to_provider, event) {
        (Lang::En, true, Created) if details.booking.status == BookingStatus::Pending => {
            format!("New booking request: {client}, {service}, {when}. Confirm or decline it.")
        }
        (Lang::En, true, Created) => format!("New booking: {client}, {service}, {when}."),
        (Lang::En, true, Cancelled) => format!("{client} cancelled {service} on {when}."),
        (Lang::En, true, Rescheduled) => format!("{client} moved {service} to {when}."),
        (Lang::En, false, Created) => format!("{provider} booked you: {service}, {when}."),
        (Lang::En, false, Completed) => {
            format!("Thank you for visiting {provider}! Book {service} again when you like.")
        }
        (Lang::En, false, Confirmed) => format!("{provider} confirmed your booking: {service}, {when}."),
        (Lang::En, false, Declined) => format!("{provider} declined your booking request for {when}."),
        (Lang::En, false, Cancelled) => format!("{provider} cancelled your booking: {service}, {when}."),
        (Lang::En, false, Rescheduled) => format!("{provider} moved your booking to {when}: {service}."),
        (Lang::En, false, Proposed) => format!(
            "{provider} cannot take you at {when}, and proposes {}: {service}. Accept or decline?",
            proposed(details, lang, reader)
        ),
        (Lang::En, false, Expired) => format!(
            "Your request to {provider} for {when} was not settled in time, so it was declined. Please pick another time."
        ),
        (Lang::En, true, ProposalAccepted) => format!("{client} accepted your proposed time: {service}, {when}."),
        (Lang::En, true, ProposalDeclined) => format!("{client} declined the time you proposed for {service}."),
        (Lang::Ru, true, Created) if details.booking.status == BookingStatus::Pending => {
            format!("Новая заявка: {client}, {service}, {when}. Подтвердите или отклоните её.")
        }
        (Lang::Ru, true, Created) => format!("Новая запись: {client}, {service}, {when}."),
        (Lang::Ru, true, Cancelled) => format!("{client} отменил(а) запись: {service}, {when}."),
        (Lang::Ru, true, Rescheduled) => format!("{client} перенес(ла) запись на {when}: {service}."),
        (Lang::Ru, false, Created) => format!("{provider} записал(а) вас: {service}, {when}."),
        (Lang::Ru, false, Completed) => {
            format!("Спасибо за визит к {provider}! Запишитесь на «{service}» снова, когда захотите.")
        }
        (Lang::Ru, false, Confirmed) => format!("{provider} подтвердил(а) вашу запись: {service}, {when}."),
        (Lang::Ru, false, Declined) => format!("{provider} отклонил(а) заявку на {when}."),
        (Lang::Ru, false, Cancelled) => format!("{provider} отменил(а) вашу запись: {service}, {when}."),
        (Lang::Ru, false, Rescheduled) => format!("{provider} перенес(ла) вашу запись на {when}: {service}."),
        (Lang::Ru, false, Proposed) => format!(
            "{provider} не может принять вас {when} и предлагает {}: {service}. Принять или отказаться?",
            proposed(details, lang, reader)
        ),
        (Lang::Ru, false, Expired) => format!(
            "Ваша заявка к {provider} на {when} не была согласована вовремя, поэтому она отклонена. Пожалуйста, выберите другое время."
        ),
        (Lang::Ru, true, ProposalAccepted) => format!("{client} принял(а) предложенное время: {service}, {when}."),
        (Lang::Ru, true, ProposalDeclined) => format!("{client} отказал(ся/ась) от предложенного времени: {service}."),
        (_, _, other) => format!("{service}, {when}: {}.", other.as_str()),
    }
}

pub fn reminder(details: &BookingDetails, lang: Lang, reader: Option<&ProviderTimeZone>) -> String {
    let when = when(details, lang, reader);
    match lang {
        Lang::En => format!("Reminder: {} with {} — {when}.", details.service_name, details.provider_name),
        Lang::Ru => format!("Напоминание: {} у {} — {when}.", details.service_name, details.provider_name),
    }
}

/// The reminder's button onto the booking's move in the Mini App.
pub fn reschedule_button(lang: Lang) -> &'static str {
    lang.pick("🔁 Reschedule", "🔁 Перенести")
}

/// A cancel button pressed past the provider's cut-off: why nothing happened.
pub fn past_cutoff(lang: Lang, minutes: u32) -> String {
    let hours = minutes.div_ceil(60);
    match lang {
        Lang::En => format!(
            "Too late to cancel here: {hours} h before the visit at the latest. Please tell the provider directly."
        ),
        Lang::Ru => format!(
            "Отменить здесь уже нельзя: не позднее чем за {hours} ч до визита. Пожалуйста, сообщите мастеру напрямую."
        ),
    }
}

/// The button under "thank you for visiting": the same service's live slots.
/// A waitlist offer: a time freed up in the window the client waits for.
pub fn offer(lang: Lang, service: &str, provider: &str, when: &str, with_button: bool) -> String {
    let (en_how, ru_how) = if with_button {
        ("Tap below to book it", "Нажмите ниже, чтобы записаться")
    } else {
        ("Open the app to book it", "Откройте приложение, чтобы записаться")
    };
    match lang {
        Lang::En => format!(
            "🔔 A time freed up: {service} with {provider}, {when}.\n{en_how} — the first to book gets it; \
             you stay on the waitlist until you book."
        ),
        Lang::Ru => format!(
            "🔔 Освободилось время: {service}, {provider}, {when}.\n{ru_how} — запишется тот, кто успеет первым; \
             вы остаётесь в листе ожидания, пока не запишетесь."
        ),
    }
}

/// The button under an offer.
pub fn book_offer(lang: Lang) -> &'static str {
    lang.pick("📅 Book this time", "📅 Записаться на это время")
}

pub fn book_again(lang: Lang) -> &'static str {
    lang.pick("📅 Book again", "📅 Записаться снова")
}

/// The label of a bot button: confirm, decline, answers to a proposal,
/// "I'm coming", or (any other) cancel.
pub fn button(lang: Lang, action: Action) -> &'static str {
    match action {
        Action::Confirm => lang.pick("✅ Confirm", "✅ Подтвердить"),
        Action::Decline => lang.pick("❌ Decline", "❌ Отклонить"),
        Action::AcceptProposal => lang.pick("✅ Accept", "✅ Принять"),
        Action::DeclineProposal => lang.pick("❌ Decline", "❌ Отказаться"),
        Action::Attend => lang.pick("👍 I'm coming", "👍 Приду"),
        _ => lang.pick("Cancel", "Отменить"),
    }
}

/// The provider's morning digest: the day's visits in time order, each
/// with whether the client said "I'm coming".
pub fn morning_digest(
    lang: Lang,
    tz: &actors::domain::ProviderTimeZone,
    date: jiff::civil::Date,
    visits: &[BookingDetails],
) -> String {
    let day = date.strftime(lang.pick("%a %d %b", "%d.%m")).to_string();
    if visits.is_empty() {
        return lang.pick(
            format!("Good morning! {day}: no visits booked today."),
            format!("Доброе утро! {day}: записей на сегодня нет."),
        );
    }
    let coming = visits.iter().filter(|v| v.booking.attendance_confirmed_at.is_some()).count();
    let mut text = match lang {
        Lang::En => format!("Good morning! {day}: {} visit(s), {coming} confirmed \"I'm coming\".", visits.len()),
        Lang::Ru => format!("Доброе утро! {day}: записей — {}, подтвердили «Приду» — {coming}.", visits.len()),
    };
    for visit in visits {
        let b = &visit.booking;
        let mark = match (b.attendance_confirmed_at.is_some(), b.status) {
            (true, _) => lang.pick("✅ coming", "✅ придёт"),
            (false, BookingStatus::Pending) => lang.pick("⏳ request", "⏳ заявка"),
            (false, _) => lang.pick("· not confirmed", "· не подтвердил(а)"),
        };
        let time = tz.local_text(b.start, "%H:%M");
        text.push_str(&format!("\n{time} {} — {} {mark}", visit.service_name, visit.client_name));
    }
    text
}

pub fn welcome(lang: Lang, provider: Option<&str>) -> String {
    match (lang, provider) {
        (Lang::En, Some(name)) => format!("Book with {name}: tap the button below to see free times."),
        (Lang::En, None) => "Welcome to Just Book Me! Open the app to book, or to take bookings yourself.".into(),
        (Lang::Ru, Some(name)) => format!("Запись к {name}: нажмите кнопку ниже, чтобы увидеть свободное время."),
        (Lang::Ru, None) => {
            "Добро пожаловать в Just Book Me! Откройте приложение, чтобы записаться или принимать записи.".into()
        }
    }
}

pub fn open_app(lang: Lang) -> &'static str {
    lang.pick("Open Just Book Me", "Открыть Just Book Me")
}

pub fn help(lang: Lang) -> &'static str {
    lang.pick(
        "/start — open the app\n/bookings — your upcoming bookings\n/privacy — how we handle your data\n\
         /mydata — everything we keep about you, as a file\n/delete — delete your account\n\
         /restrict — restrict the processing of your data\n/unrestrict — lift that restriction\n\
         /support — write to our support team\n/done — end the support conversation\n/help — this list",
        "/start — открыть приложение\n/bookings — ваши ближайшие записи\n/privacy — как мы обращаемся с данными\n\
         /mydata — все ваши данные у нас, файлом\n/delete — удалить аккаунт\n\
         /restrict — ограничить обработку ваших данных\n/unrestrict — снять ограничение\n\
         /support — написать в поддержку\n/done — завершить разговор с поддержкой\n/help — этот список",
    )
}

/// The command menu (`setMyCommands`), in each language.
pub fn commands(lang: Lang) -> Vec<(&'static str, &'static str)> {
    vec![
        ("start", lang.pick("Open the app", "Открыть приложение")),
        ("bookings", lang.pick("Your upcoming bookings", "Ваши ближайшие записи")),
        ("privacy", lang.pick("How we handle your data", "Как мы обращаемся с данными")),
        ("mydata", lang.pick("Everything we keep about you, as a file", "Все ваши данные у нас, файлом")),
        ("delete", lang.pick("Delete your account", "Удалить аккаунт")),
        ("restrict", lang.pick("Restrict the processing of your data", "Ограничить обработку ваших данных")),
        ("unrestrict", lang.pick("Lift that restriction", "Снять ограничение")),
        ("support", lang.pick("Write to our support team", "Написать в поддержку")),
        ("done", lang.pick("End the support conversation", "Завершить разговор с поддержкой")),
        ("help", lang.pick("What the bot can do", "Что умеет бот")),
    ]
}

/// The caption of the `/mydata` document.
pub fn my_data(lang: Lang) -> &'static str {
    lang.pick(
        "Everything we keep about you (privacy policy §8), as JSON.",
        "Всё, что мы храним о вас (политика конфиденциальности, §8), в формате JSON.",
    )
}

/// `/delete` asks first.
pub fn delete_question(lang: Lang) -> &'static str {
    lang.pick(
        "Delete your account? Your personal data is erased, your messages to support too; bookings stay only as \
         anonymous counts. If you take bookings, your upcoming visits are cancelled. This cannot be undone.",
        "Удалить аккаунт? Ваши личные данные и переписка с поддержкой будут стёрты, записи останутся только \
         обезличенными счётчиками. Если вы принимаете записи, предстоящие визиты будут отменены. Это нельзя отменить.",
    )
}

/// The two buttons under the question: delete, or keep the account.
pub fn delete_buttons(lang: Lang) -> (&'static str, &'static str) {
    (lang.pick("Delete my account", "Удалить аккаунт"), lang.pick("Keep it", "Оставить"))
}

/// After the Confirm button (`deleted`) or the keep button.
pub fn delete_outcome(lang: Lang, deleted: bool) -> &'static str {
    match deleted {
        true => lang.pick(
            "Your account is deleted. /start makes a new one whenever you like.",
            "Ваш аккаунт удалён. /start создаст новый, когда захотите.",
        ),
        false => lang.pick("Nothing was deleted.", "Ничего не удалено."),
    }
}

/// A delete button pressed by someone else, or pressed again.
pub fn delete_stale(lang: Lang) -> &'static str {
    lang.pick(
        "This button is not yours, or was already used; nothing changed.",
        "Эта кнопка не ваша или уже нажата; ничего не изменилось.",
    )
}

/// `/support`: what the user writes next goes to support.
pub fn support_started(lang: Lang) -> &'static str {
    lang.pick(
        "Write your message: everything you send here now goes to our support team, and their answer comes \
         to this chat. /done ends the conversation.",
        "Напишите сообщение: всё, что вы отправите сюда, получит наша поддержка, а её ответ придёт в этот чат. \
         /done завершает разговор.",
    )
}

/// `/done`, with (`true`) or without an open conversation.
pub fn support_done(lang: Lang, was_open: bool) -> &'static str {
    match was_open {
        true => lang.pick(
            "The support conversation is closed. /support starts a new one.",
            "Разговор с поддержкой завершён. /support начинает новый.",
        ),
        false => lang.pick(
            "No support conversation is open. /support starts one.",
            "Разговор с поддержкой не начат. /support начинает его.",
        ),
    }
}

/// A plain message with no support conversation open.
pub fn support_hint(lang: Lang) -> &'static str {
    lang.pick(
        "I answer commands (/help lists them). To write to our support team, send /support first.",
        "Я отвечаю на команды (/help — их список). Чтобы написать в поддержку, сначала отправьте /support.",
    )
}

/// Only text reaches support.
pub fn support_text_only(lang: Lang) -> &'static str {
    lang.pick(
        "Only text messages reach support; please describe it in words.",
        "Поддержке передаются только текстовые сообщения; пожалуйста, опишите словами.",
    )
}

/// Over the support rate limit: the message was not kept.
pub fn support_too_fast(lang: Lang, wait_secs: u64) -> String {
    match lang {
        Lang::En => format!("Too many messages at once: this one was not delivered. Send it again in {wait_secs} s."),
        Lang::Ru => {
            format!("Слишком много сообщений подряд: это не доставлено. Отправьте его снова через {wait_secs} с.")
        }
    }
}

/// A support message over the length limit: not kept.
pub fn support_too_long(lang: Lang, max_chars: usize) -> String {
    match lang {
        Lang::En => format!(
            "This message is too long for support (at most {max_chars} characters): it was not delivered. Please shorten it or split it."
        ),
        Lang::Ru => format!(
            "Сообщение слишком длинное для поддержки (не больше {max_chars} символов): оно не доставлено. Сократите его или разделите."
        ),
    }
}

/// Over the per-day cap of support messages: not kept.
pub fn support_day_full(lang: Lang) -> &'static str {
    lang.pick(
        "You have sent support a lot of messages today: this one was not delivered. Support will answer what you wrote; you can write again tomorrow.",
        "Вы отправили в поддержку много сообщений за сегодня: это не доставлено. Поддержка ответит на написанное; снова написать можно завтра.",
    )
}

/// Support's answer, as the user receives it.
pub fn support_answer(lang: Lang, text: &str) -> String {
    match lang {
        Lang::En => format!("Support: {text}"),
        Lang::Ru => format!("Поддержка: {text}"),
    }
}

/// Who wrote to support, as the operators' chat sees it (in English: one
/// chat serves every operator).
pub struct SupportWriter<'a> {
    pub name: &'a str,
    pub username: Option<&'a str>,
    pub telegram_id: i64,
    pub user_id: String,
}

/// The copy of a support message in the operators' chat.
pub fn support_copy(writer: &SupportWriter<'_>, text: &str) -> String {
    let username = writer.username.map(|u| format!(" @{u}")).unwrap_or_default();
    // Telegram caps a message at 4096 characters: a long message is cut
    // here (the stored one is whole; `justbookme support list` shows it).
    const ROOM: usize = 3600;
    let shown: String = text.chars().take(ROOM).collect();
    let cut = if text.chars().count() > ROOM { " […cut; the whole text: justbookme support list]" } else { "" };
    format!(
        "Support message from {}{username} (Telegram id {}, user {}):\n\n{shown}{cut}\n\n\
         ↩ Reply to this message to answer.",
        writer.name, writer.telegram_id, writer.user_id
    )
}

/// To an operator whose reply matches no support message.
pub fn support_reply_unknown(lang: Lang) -> &'static str {
    lang.pick(
        "This reply matches no support message (or its writer deleted the account): nothing was sent. Reply to a \
         forwarded support message.",
        "Этот ответ не относится ни к одному сообщению поддержки (или автор удалил аккаунт): ничего не отправлено. \
         Ответьте на пересланное сообщение поддержки.",
    )
}

/// To an operator whose answer Telegram did not deliver.
pub fn support_reply_failed(lang: Lang, error: &str) -> String {
    match lang {
        Lang::En => format!("Not delivered to the user: {error}"),
        Lang::Ru => format!("Не доставлено пользователю: {error}"),
    }
}

/// The answer to `/restrict` (`restricted`) or `/unrestrict`.
pub fn restricted(lang: Lang, restricted: bool) -> &'static str {
    match restricted {
        true => lang.pick(
            "Processing of your data is restricted: the bot sends you nothing more. /unrestrict lifts it.",
            "Обработка ваших данных ограничена: бот больше ничего не присылает. /unrestrict снимает ограничение.",
        ),
        false => lang.pick(
            "The restriction is lifted: notifications and reminders are on again.",
            "Ограничение снято: уведомления и напоминания снова включены.",
        ),
    }
}

pub fn no_account(lang: Lang) -> &'static str {
    lang.pick(
        "You have no account yet: open the app with /start.",
        "У вас ещё нет аккаунта: откройте приложение — /start.",
    )
}

pub fn no_bookings(lang: Lang) -> &'static str {
    lang.pick("You have no upcoming bookings.", "У вас нет предстоящих записей.")
}

pub fn stale(lang: Lang) -> &'static str {
    lang.pick("This booking was already handled; nothing changed.", "Эта запись уже обработана; ничего не изменилось.")
}

/// An accepted proposal from a client the provider blocked (said politely, as over HTTP).
pub fn blocked(lang: Lang) -> &'static str {
    lang.pick(
        "This provider is not taking bookings from you through Just Book Me; please contact them directly.",
        "Этот мастер не принимает ваши записи через Just Book Me; пожалуйста, свяжитесь с ним напрямую.",
    )
}

/// "I'm coming" pressed once the visit began.
pub fn already_started(lang: Lang) -> &'static str {
    lang.pick("The visit has already started.", "Визит уже начался.")
}

/// An accepted proposal whose time was booked by someone else first.
pub fn proposal_taken(lang: Lang) -> &'static str {
    lang.pick(
        "Sorry, someone has just booked that time. Open the app to pick another one.",
        "Увы, это время только что заняли. Откройте приложение, чтобы выбрать другое.",
    )
}

pub fn done(lang: Lang, action: Action) -> &'static str {
    match action {
        Action::AcceptProposal => lang.pick("Accepted: see you then!", "Принято: до встречи!"),
        Action::DeclineProposal => lang.pick("Declined.", "Вы отказались."),
        Action::Attend => {
            lang.pick("Thanks, the provider sees you're coming.", "Спасибо, мастер видит, что вы придёте.")
        }
        Action::Confirm => lang.pick("Confirmed.", "Подтверждено."),
        Action::Decline => lang.pick("Declined.", "Отклонено."),
        _ => lang.pick("Cancelled.", "Отменено."),
    }
}

/// The bot's one message about a new version of the privacy policy (§10).
pub fn policy_updated(lang: Lang, version: &str, url: Option<&url::Url>) -> String {
    let link = url.map(|url| format!("\n{url}")).unwrap_or_default();
    match lang {
        Lang::En => {
            format!("We updated our privacy policy (version {version}). It takes effect now; /privacy shows it.{link}")
        }
        Lang::Ru => format!(
            "Мы обновили политику конфиденциальности (версия {version}). Она действует с момента публикации; \
             /privacy покажет её.{link}"
        ),
    }
}

/// To a client whose provider deleted their account (policy §7): the visits
/// it cancelled.
pub fn provider_closed(lang: Lang, provider: &str, visits: &[String]) -> String {
    let visits = visits.iter().map(|v| format!("\n• {v}")).collect::<String>();
    match lang {
        Lang::En => format!("{provider} has closed their Just Book Me account, so these visits are cancelled:{visits}"),
        Lang::Ru => format!("{provider} удалил(а) аккаунт в Just Book Me, поэтому эти записи отменены:{visits}"),
    }
}

/// To a client the provider removed from the client book (policy §6): the
/// upcoming visits that went with the card.
pub fn removed_from_client_book(lang: Lang, provider: &str, visits: &[String]) -> String {
    let visits = visits.iter().map(|v| format!("\n• {v}")).collect::<String>();
    match lang {
        Lang::En => {
            format!("{provider} has deleted your data from their client book, so these visits are cancelled:{visits}")
        }
        Lang::Ru => {
            format!("{provider} удалил(а) ваши данные из своей клиентской базы, поэтому эти записи отменены:{visits}")
        }
    }
}

/// To a provider: a client asks them to delete their card (policy §6).
pub fn erasure_requested(lang: Lang, client: &str) -> String {
    match lang {
        Lang::En => format!(
            "{client} asks you to delete their data from your client book. Open the client in the app to delete it."
        ),
        Lang::Ru => format!(
            "{client} просит удалить его (её) данные из вашей клиентской базы. Откройте клиента в приложении, чтобы удалить."
        ),
    }
}

/// One visit in a list: "Haircut, Tue 01 Jun 2027, 10:00 (Europe/Berlin)".
pub fn visit(details: &BookingDetails, lang: Lang, reader: Option<&ProviderTimeZone>) -> String {
    format!("{}, {}", details.service_name, when(details, lang, reader))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> ProviderTimeZone {
        ProviderTimeZone::parse(name).expect("an IANA zone")
    }

    fn instant(utc: &str) -> Timestamp {
        utc.parse().expect("an RFC 3339 instant")
    }

    // The expected wall times were read off the IANA reference
    // implementation (Debian tzdata), not computed with jiff:
    // `zdump -v -c 2027,2028 America/New_York Europe/Berlin Europe/Moscow`
    //   America/New_York  Sun Mar 14 07:00:00 2027 UT = Sun Mar 14 03:00:00 2027 EDT gmtoff=-14400
    //   Europe/Berlin     Sun Mar 28 01:00:00 2027 UT = Sun Mar 28 03:00:00 2027 CEST gmtoff=7200
    //   (Europe/Moscow: no transition, +03 all year)
    // and `TZ=<zone> date -d <instant>` for each line below.
    #[test]
    fn the_readers_wall_time_follows_both_zones_dst_rules() {
        let berlin = zone("Europe/Berlin");
        let cases = [
            // 10 March: neither has moved; Berlin +01, New York −05: 6 h.
            ("2027-03-10T09:00:00Z", "America/New_York", "Wed 10 Mar 2027, 10:00 (Europe/Berlin) · 04:00 your time"),
            // 20 March: New York is on EDT (−04), Berlin still on CET: 5 h.
            ("2027-03-20T09:00:00Z", "America/New_York", "Sat 20 Mar 2027, 10:00 (Europe/Berlin) · 05:00 your time"),
            // 5 April: both on summer time: 6 h again.
            ("2027-04-05T08:00:00Z", "America/New_York", "Mon 05 Apr 2027, 10:00 (Europe/Berlin) · 04:00 your time"),
            // Moscow keeps +03: 2 h ahead in winter, 1 h in summer.
            ("2027-03-10T09:00:00Z", "Europe/Moscow", "Wed 10 Mar 2027, 10:00 (Europe/Berlin) · 12:00 your time"),
            ("2027-04-05T08:00:00Z", "Europe/Moscow", "Mon 05 Apr 2027, 10:00 (Europe/Berlin) · 11:00 your time"),
            // Half-hour offsets.
            ("2027-03-10T09:00:00Z", "Asia/Kolkata", "Wed 10 Mar 2027, 10:00 (Europe/Berlin) · 14:30 your time"),
            // Another day on the reader's side: their date is shown too.
            (
                "2027-05-31T23:00:00Z",
                "America/New_York",
                "Tue 01 Jun 2027, 01:00 (Europe/Berlin) · Mon 31 May, 19:00 your time",
            ),
        ];
        for (utc, reader, expected) in cases {
            assert_eq!(at(instant(utc), &berlin, Some(&zone(reader)), Lang::En), expected, "{utc} in {reader}");
        }
    }

    #[test]
    fn the_same_wall_time_is_shown_once() {
        let berlin = zone("Europe/Berlin");
        let alone = "Wed 10 Mar 2027, 10:00 (Europe/Berlin)";
        let at_ten = instant("2027-03-10T09:00:00Z");
        // Another name, the same clock (Paris and Berlin share their rules).
        assert_eq!(at(at_ten, &berlin, Some(&zone("Europe/Paris")), Lang::En), alone);
        assert_eq!(at(at_ten, &berlin, Some(&berlin), Lang::En), alone);
        assert_eq!(at(at_ten, &berlin, None, Lang::En), alone);
        // Africa/Lagos is +01 all year: the same clock as Berlin in winter only.
        let lagos = zone("Africa/Lagos");
        assert_eq!(at(at_ten, &berlin, Some(&lagos), Lang::En), alone);
        let summer = at(instant("2027-07-01T08:00:00Z"), &berlin, Some(&lagos), Lang::En);
        assert_eq!(summer, "Thu 01 Jul 2027, 10:00 (Europe/Berlin) · 09:00 your time");
    }

    #[test]
    fn russian_readers_get_numeric_dates() {
        let (berlin, new_york) = (zone("Europe/Berlin"), zone("America/New_York"));
        let same_day = at(instant("2027-03-20T09:00:00Z"), &berlin, Some(&new_york), Lang::Ru);
        assert_eq!(same_day, "20.03.2027, 10:00 (Europe/Berlin) · 05:00 по вашему времени");
        let day_before = at(instant("2027-05-31T23:00:00Z"), &berlin, Some(&new_york), Lang::Ru);
        assert_eq!(day_before, "01.06.2027, 01:00 (Europe/Berlin) · 31.05, 19:00 по вашему времени");
    }
}
