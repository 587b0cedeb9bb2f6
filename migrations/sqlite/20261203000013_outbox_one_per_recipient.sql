-- The outbox claims one message per recipient at a time (the next waits until
-- the one being sent is done): the claim asks, per candidate, whether its
-- recipient has one `sending` and which of theirs is due first. This index
-- answers both without reading the recipient's other rows.
DROP INDEX outbox_recipient;
CREATE INDEX outbox_recipient ON outbox (recipient_id, state, due_at);
