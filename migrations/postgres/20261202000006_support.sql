-- Support (policy §8 "contact service support", §11 "through the Telegram bot").
-- A conversation is open from /support until the user sends /done; at most one
-- is open per user. `last_activity_at` moves with every message either way and
-- with /done: the retention purge deletes a conversation (and its messages)
-- once it is older than the retention period, which also ends one abandoned
-- while open. Messages belong to the account: its deletion deletes them.
CREATE TABLE support_conversations (
    id               uuid        PRIMARY KEY,
    user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    opened_at        timestamptz NOT NULL,
    last_activity_at timestamptz NOT NULL,
    finished_at      timestamptz
);
CREATE UNIQUE INDEX support_conversations_open ON support_conversations (user_id) WHERE finished_at IS NULL;
CREATE INDEX support_conversations_activity ON support_conversations (last_activity_at);

-- direction: 'in' from the user to support, 'out' from support to the user.
-- operator_chat_id / operator_message_id: the copy in the operator chat
-- (SUPPORT_CHAT_ID) that an operator's reply points at.
CREATE TABLE support_messages (
    id                  uuid        PRIMARY KEY,
    conversation_id     uuid        NOT NULL REFERENCES support_conversations (id) ON DELETE CASCADE,
    user_id             uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    direction           text        NOT NULL CHECK (direction IN ('in', 'out')),
    text                text        NOT NULL,
    created_at          timestamptz NOT NULL,
    operator_chat_id    bigint,
    operator_message_id bigint
);
CREATE INDEX support_messages_user ON support_messages (user_id, created_at);
CREATE INDEX support_messages_conversation ON support_messages (conversation_id);
CREATE UNIQUE INDEX support_messages_copy ON support_messages (operator_chat_id, operator_message_id);
