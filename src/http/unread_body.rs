//! Closes the connection after an answer given before a chunked request body
//! was read whole. actix closes such a connection when the body had a
//! `Content-Length`, but keeps reading (draining) a chunked body nobody
//! wants, to reuse the connection — so a client trickling one chunk a second
//! after, say, a 408 or a 404 held the connection for as long as it liked
//! (issue 16). actix closes instead when the body is still held by someone
//! when the answer goes out: the answer's body holds it here until sent.

use std::{
    cell::RefCell,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use actix_web::{
    Error, HttpMessage,
    body::{BodySize, BoxBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web::Bytes,
};
use futures_util::Stream;

pub async fn close_if_unread(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let chunked = req
        .headers()
        .get(header::TRANSFER_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"));
    if !chunked {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let body = Rc::new(RefCell::new(req.take_payload()));
    req.set_payload(Payload::Stream { payload: Box::pin(SharedBody(body.clone())) });
    // An error (only the request deadline's 503 gets here) is answered
    // outside, without the body: a chunked body not read by then is drained.
    let response = next.call(req).await?.map_into_boxed_body();
    Ok(response.map_body(|_, answer| BoxBody::new(Holding { answer, _body: body })))
}

/// The request body, read by the handler while this middleware holds it too.
struct SharedBody(Rc<RefCell<Payload>>);

impl Stream for SharedBody {
    type Item = <Payload as Stream>::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_next(cx)
    }
}

/// An answer's body that keeps the request body alive until it is sent.
struct Holding {
    answer: BoxBody,
    _body: Rc<RefCell<Payload>>,
}

impl MessageBody for Holding {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.answer.size()
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().answer).poll_next(cx)
    }
}
