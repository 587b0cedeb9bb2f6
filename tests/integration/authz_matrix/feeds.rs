//! The matrix's WebSocket half: each identity on `/ws`, signed in with its
//! own token (the anonymous one not at all), watching the owner's and the
//! other provider's free slots while bookings are made. Only a provider
//! hears of their own bookings; slot frames carry times and nothing else.

use std::time::Duration;

use serde_json::{Value, json};

use super::{EVERYONE, Who};
use crate::helpers::{Backend, DAY, every_day, on_both_backends, slot, spawn_app};
use crate::live::{Socket, next_json, open, send, watch};

on_both_backends!(the_live_socket_feeds_each_provider_only_their_own_bookings);

const WAIT: Duration = Duration::from_secs(10);
/// How long a socket must stay silent before we take it that nothing more comes.
const QUIET: Duration = Duration::from_millis(700);

/// The keys a slot frame may have, and a slot in it.
const SLOT_FRAME_KEYS: [&str; 6] = ["from", "provider", "service", "slots", "to", "type"];
const SLOT_KEYS: [&str; 2] = ["end", "start"];

struct Listener {
    who: Who,
    socket: Socket,
}

async fn the_live_socket_feeds_each_provider_only_their_own_bookings(backend: Backend) {
    let app = spawn_app(backend).await;
    let hours = every_day("09:00", "17:00");
    let (owner, service) = app.provider(1, "anna", json!({}), hours.clone()).await;
    let (other_provider, other_service) = app.provider(4, "bruno", json!({}), hours).await;
    let client = app.dev_sign_in(2, "Carolzq").await;
    let other_client = app.dev_sign_in(3, "Dave").await;
    let stranger = app.dev_sign_in(5, "Eve").await;
    app.book(&client, "anna", &service, &slot("09:00")).await.ok();
    app.book(&other_client, "bruno", &other_service, &slot("09:00")).await.ok();
    let token = |who: Who| match who {
        Who::Anonymous => None,
        Who::Stranger => Some(stranger.clone()),
        Who::Client => Some(client.clone()),
        Who::OtherClient => Some(other_client.clone()),
        Who::OtherProvider => Some(other_provider.clone()),
        Who::Owner => Some(owner.clone()),
    };

    let mut listeners = Vec::new();
    for who in EVERYONE {
        let mut socket = open(&app).await;
        if let Some(token) = token(who) {
            send(&mut socket, json!({ "type": "auth", "token": token })).await;
            let answer = next_json(&mut socket, WAIT).await.expect("an answer to auth");
            let feed = match who {
                Who::Owner => json!("anna"),
                Who::OtherProvider => json!("bruno"),
                _ => Value::Null,
            };
            assert_eq!(answer["type"], "authenticated", "{who:?}: {answer}");
            assert_eq!(answer["provider"], feed, "{who:?} is given the feed of {}", answer["provider"]);
            let me = app.get("/api/me", Some(&token)).await;
            assert_eq!(answer["user"], me.ok()["id"], "{who:?}: {answer}");
        }
        for (slug, service) in [("anna", &service), ("bruno", &other_service)] {
            send(&mut socket, watch(slug, service, DAY, DAY)).await;
            let snapshot = next_json(&mut socket, WAIT).await.expect("a snapshot");
            assert_slots_only(who, &snapshot);
        }
        listeners.push(Listener { who, socket });
    }

    // A booking with the owner, by someone who is none of the six.
    let booker = app.dev_sign_in(7, "Fionazq").await;
    let booker_id = app.get("/api/me", Some(&booker)).await.ok()["id"].as_str().expect("id").to_owned();
    let booking = json!({ "provider": "anna", "service": service, "start": slot("11:00"), "note": "ws-note-qx7" });
    let booked = app.request("POST", "/api/bookings", Some(&booker), Some(booking)).await;
    let id = booked.ok()["id"].as_str().expect("id").to_owned();
    let secrets = [id.as_str(), booker_id.as_str(), "Fionazq", "ws-note-qx7"];
    hear_only(&mut listeners, Who::Owner, "anna", &id, &secrets).await;

    // And one with the other provider, by their client: the owner hears nothing of it.
    let booked = app.book(&other_client, "bruno", &other_service, &slot("12:00")).await;
    let id = booked.ok()["id"].as_str().expect("id").to_owned();
    let other_client_id = app.get("/api/me", Some(&other_client)).await.ok()["id"].as_str().expect("id").to_owned();
    hear_only(&mut listeners, Who::OtherProvider, "bruno", &id, &[id.as_str(), other_client_id.as_str(), "Dave"]).await;
}

/// Every listener's frames after a booking `id` with `slug` was made: all
/// see its slots change (they are listening); `provider` gets exactly one
/// booking event, for `id`; everyone else only slot frames, and no frame to
/// anyone else holds any of `secrets`.
async fn hear_only(listeners: &mut [Listener], provider: Who, slug: &str, id: &str, secrets: &[&str]) {
    let heard = futures_util::future::join_all(listeners.iter_mut().map(|listener| async move {
        let mut frames: Vec<Value> = Vec::new();
        // What must come is awaited (a loaded machine may be slow); then
        // whatever else comes, until the socket has been quiet a while.
        let complete = |frames: &[Value]| {
            let slots = frames.iter().any(|f| f["type"] == "slots" && f["provider"] == slug);
            slots && (listener.who != provider || frames.iter().any(|f| f["type"] == "booking"))
        };
        loop {
            let patience = if complete(&frames) { QUIET } else { WAIT };
            match next_json(&mut listener.socket, patience).await {
                Some(frame) => frames.push(frame),
                None => break,
            }
        }
        (listener.who, frames)
    }))
    .await;
    for (who, frames) in heard {
        assert!(frames.iter().any(|f| f["provider"] == slug), "{who:?} saw {slug}'s slots change: {frames:?}");
        let events: Vec<&Value> = frames.iter().filter(|f| f["type"] == "booking").collect();
        if who == provider {
            assert_eq!(events.len(), 1, "{who:?} hears of their booking once: {frames:?}");
            assert_eq!((events[0]["event"].as_str(), events[0]["booking"]["id"].as_str()), (Some("created"), Some(id)));
        } else {
            assert!(events.is_empty(), "{who:?} heard another provider's booking: {events:?}");
            for frame in &frames {
                let text = frame.to_string();
                for secret in secrets {
                    assert!(!text.contains(secret), "{who:?} was sent {secret:?}: {text}");
                }
            }
        }
        for frame in frames.iter().filter(|f| f["type"] != "booking") {
            assert_slots_only(who, frame);
        }
    }
}

/// `frame` is a slot frame and holds nothing but the watch and times.
#[track_caller]
fn assert_slots_only(who: Who, frame: &Value) {
    assert_eq!(frame["type"], "slots", "{who:?}: {frame}");
    let mut keys: Vec<&str> = frame.as_object().expect("an object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, SLOT_FRAME_KEYS, "{who:?}: {frame}");
    for slot in frame["slots"].as_array().expect("slots") {
        let mut keys: Vec<&str> = slot.as_object().expect("a slot").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, SLOT_KEYS, "{who:?}: {slot}");
    }
}
