//! Webhook mode, for clusters: Telegram posts updates to any node, at a
//! secret path, with the secret token in `X-Telegram-Bot-Api-Secret-Token`;
//! the node hands them to its own dispatcher through an in-process channel.

use std::convert::Infallible;

use futures_util::{StreamExt, stream::BoxStream};
use sha2::{Digest, Sha256};
use teloxide::{
    stop::{StopFlag, StopToken, mk_stop_token},
    types::Update,
    update_listeners::{AsUpdateStream, UpdateListener},
};
use tokio::sync::mpsc;

/// The path Telegram posts to: derived from the secret, so it is unguessable
/// without being a second thing to configure.
pub fn path(secret: &str) -> String {
    let digest = Sha256::digest(format!("justbookme-webhook:{secret}").as_bytes());
    format!("/telegram/{}", &hex::encode(digest)[..32])
}

/// Updates received over HTTP, as a teloxide update listener.
pub struct WebhookListener {
    updates: mpsc::Receiver<Update>,
    token: StopToken,
    flag: Option<StopFlag>,
}

impl WebhookListener {
    pub fn new(updates: mpsc::Receiver<Update>) -> Self {
        let (token, flag) = mk_stop_token();
        WebhookListener { updates, token, flag: Some(flag) }
    }
}

impl<'a> AsUpdateStream<'a> for WebhookListener {
    type StreamErr = Infallible;
    type Stream = BoxStream<'a, Result<Update, Infallible>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        let flag = self.flag.take();
        let updates = futures_util::stream::poll_fn(move |cx| self.updates.poll_recv(cx)).map(Ok);
        match flag {
            Some(flag) => updates.take_until(flag).boxed(),
            None => updates.boxed(),
        }
    }
}

impl UpdateListener for WebhookListener {
    type Err = Infallible;

    fn stop_token(&mut self) -> StopToken {
        self.token.clone()
    }
}
