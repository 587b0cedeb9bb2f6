//! Support conversations as the store keeps them (policy §8 "contact service
//! support", §11 "through the Telegram bot").

use actors::domain::UserId;
use jiff::Timestamp;
use uuid::Uuid;

use super::StoreError;

/// Which way a support message went.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SupportDirection {
    /// From the user to support.
    In,
    /// From support (an operator) to the user.
    Out,
}

impl SupportDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            SupportDirection::In => "in",
            SupportDirection::Out => "out",
        }
    }
}

impl TryFrom<String> for SupportDirection {
    type Error = StoreError;
    fn try_from(text: String) -> Result<Self, StoreError> {
        match text.as_str() {
            "in" => Ok(SupportDirection::In),
            "out" => Ok(SupportDirection::Out),
            other => Err(StoreError::corrupt(format!("unknown support direction {other:?}"))),
        }
    }
}

/// One message of a conversation, read straight from its row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SupportMessage {
    pub id: Uuid,
    pub conversation_id: Uuid,
    #[sqlx(try_from = "Uuid")]
    pub user_id: UserId,
    #[sqlx(try_from = "String")]
    pub direction: SupportDirection,
    pub text: String,
    #[sqlx(try_from = "super::sql::Moment")]
    pub created_at: Timestamp,
}

/// A message to store; `conversation_id` names the conversation it belongs to.
#[derive(Clone, Debug)]
pub struct NewSupportMessage {
    pub conversation_id: Uuid,
    pub user_id: UserId,
    pub direction: SupportDirection,
    pub text: String,
    pub at: Timestamp,
}

/// An open conversation, as `justbookme support list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SupportConversation {
    pub id: Uuid,
    #[sqlx(try_from = "Uuid")]
    pub user_id: UserId,
    #[sqlx(try_from = "super::sql::Moment")]
    pub opened_at: Timestamp,
    #[sqlx(try_from = "super::sql::Moment")]
    pub last_activity_at: Timestamp,
}
