//! Small checks for free-text input shared by the handlers.

use actors::domain::FieldError;

/// A required text: trimmed, not empty, at most `max_chars` characters, no
/// control characters (line breaks only where `multiline`).
pub fn text(field: &str, value: &str, max_chars: usize, multiline: bool) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("at most {max_chars} characters")));
    }
    let allowed_control = |c: char| multiline && (c == '\n' || c == '\r' || c == '\t');
    if value.chars().any(|c| c.is_control() && !allowed_control(c)) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// An optional text: absent or blank means "none".
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
    multiline: bool,
) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(field, value, max_chars, multiline).map(Some),
    }
}

/// A BCP 47 language tag as Telegram sends it (`en`, `pt-br`).
pub fn language_code(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let mut parts = value.split('-');
    let primary_ok =
        parts.next().is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !primary_ok || !rest_ok || value.len() > 35 {
        return Err(FieldError::new(field, format!("{value:?} is not a language code like en or pt-br")));
    }
    Ok(Some(value.to_ascii_lowercase()))
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or
/// a value (`Some(Some(v))`), so PATCH can tell "leave" from "clear".
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("f", "  Anna  ", 10, false).unwrap(), "Anna");
        assert_eq!(text("f", "   ", 10, false).unwrap_err().field, "f");
        assert!(text("f", "abcdefghijk", 10, false).is_err());
        assert!(text("f", "a\nb", 10, false).is_err());
        assert!(text("f", "a\nb", 10, true).is_ok());
        assert!(text("f", "a\u{7}b", 10, true).is_err());
        assert_eq!(optional_text("f", Some("  "), 10, false).unwrap(), None);
    }

    #[test]
    fn language_codes() {
        assert_eq!(language_code("l", Some("EN")).unwrap().as_deref(), Some("en"));
        assert_eq!(language_code("l", Some("pt-BR")).unwrap().as_deref(), Some("pt-br"));
        assert!(language_code("l", Some("english!")).is_err());
        assert!(language_code("l", Some("e")).is_err());
    }
}
