//! Telegram: verifying Mini App sign-in data (and, next, the bot).

pub mod init_data;
