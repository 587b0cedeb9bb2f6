//! Small checks for free-text input shared by the handlers.

use actors::domain::{FieldError, ProviderTimeZone};

/// A required text: trimmed, not empty, at most `max_chars` characters, no
/// control characters (line breaks only where `multiline`), and nothing that
/// could disguise it (see [`disguise`]).
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
    if let Some(problem) = disguise(value) {
        return Err(FieldError::new(field, problem));
    }
    Ok(value.to_owned())
}

/// Characters that reorder the text around them (embeddings, overrides,
/// isolates, marks): U+202E makes "Anna" + RLO + "gpj.exe" read as
/// "Anna" + "exe.jpg" on a public page, in a client book or in a bot message.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that draw nothing: zero-width space and joiners, word joiner
/// and invisible operators, the byte-order mark, Hangul fillers. A name made
/// of them looks empty; between letters they make two equal-looking names
/// differ.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
    )
}

/// Why `value` would disguise itself, if it would. Zero-width (non-)joiners
/// are writing, not tricks, when they stand between two visible characters
/// (ZWJ inside an emoji sequence like 👩‍🔧, ZWNJ inside a Persian word); every
/// other invisible or direction-changing character is refused.
fn disguise(value: &str) -> Option<String> {
    let chars: Vec<char> = value.chars().collect();
    (0..chars.len()).find_map(|i| disguising(&chars, i))
}

/// `value` with what [`disguise`] would refuse taken out, trimmed: for
/// names we keep as they came (Telegram's) but show to others.
pub fn without_disguise(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let kept: String = (0..chars.len()).filter(|&i| disguising(&chars, i).is_none()).map(|i| chars[i]).collect();
    kept.trim().to_owned()
}

/// A person's name as others see it. Telegram's names are stored as
/// Telegram sends them, but shown to others [`without_disguise`], so a name
/// cannot disguise itself or the text around it; "—" if nothing is left.
pub fn shown_name(first: &str, last: Option<&str>) -> String {
    let parts = [Some(first), last].into_iter().flatten().map(without_disguise).filter(|part| !part.is_empty());
    let name = parts.collect::<Vec<_>>().join(" ");
    if name.is_empty() { "—".to_owned() } else { name }
}

/// Why `chars[i]` disguises the text, if it does.
fn disguising(chars: &[char], i: usize) -> Option<String> {
    let c = chars[i];
    let visible = |at: Option<usize>| {
        at.and_then(|at| chars.get(at)).is_some_and(|c| !c.is_whitespace() && !is_invisible(*c) && !is_bidi_control(*c))
    };
    let joiner = c == '\u{200C}' || c == '\u{200D}';
    if is_bidi_control(c) {
        Some(format!("must not contain direction-changing characters (U+{:04X})", c as u32))
    } else if is_invisible(c) && !(joiner && visible(i.checked_sub(1)) && visible(Some(i + 1))) {
        Some(format!("must not contain invisible characters (U+{:04X})", c as u32))
    } else {
        None
    }
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

/// An IANA time zone name as a device reports it (`Europe/Berlin`), in its
/// canonical spelling; `None` (JSON `null`) clears it. The same check as a
/// provider's zone: fixed offsets and POSIX rules are refused, because a
/// person's clock follows a place's DST rules.
pub fn time_zone(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    value
        .map(|name| ProviderTimeZone::parse(name).map(|zone| zone.name().to_owned()))
        .transpose()
        .map_err(|message| FieldError::new(field, message))
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
    fn invisible_and_direction_changing_characters_are_refused() {
        for hostile in [
            "\u{FEFF}",
            "\u{200B}",
            "Anna\u{202E}",
            "\u{2066}A\u{2069}",
            "A\u{200E}",
            "A\u{200D}",
            "\u{200C}A",
            "A \u{200D}B",
        ] {
            assert!(text("f", hostile, 20, false).is_err(), "{hostile:?}");
        }
        for fine in ["👩\u{200D}🔧 Anna", "می\u{200C}خواهم", "Анна", "אנה"] {
            assert_eq!(text("f", fine, 20, false).unwrap(), fine);
            assert_eq!(without_disguise(fine), fine);
        }
        assert_eq!(without_disguise("\u{FEFF}Anna\u{202E}nnA\u{200B} "), "AnnannA");
        assert_eq!(without_disguise("\u{2066}\u{200D}"), "");
    }

    #[test]
    fn language_codes() {
        assert_eq!(language_code("l", Some("EN")).unwrap().as_deref(), Some("en"));
        assert_eq!(language_code("l", Some("pt-BR")).unwrap().as_deref(), Some("pt-br"));
        assert!(language_code("l", Some("english!")).is_err());
        assert!(language_code("l", Some("e")).is_err());
    }
}
