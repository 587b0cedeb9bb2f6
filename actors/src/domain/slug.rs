/// Words that cannot be a provider slug because they name (or may one day
/// name) parts of the app itself.
const RESERVED: &[&str] = &[
    "admin",
    "api",
    "app",
    "bot",
    "help",
    "login",
    "me",
    "metrics",
    "new",
    "privacy",
    "provider",
    "providers",
    "settings",
    "static",
    "support",
    "ws",
];

/// A validated provider slug: the public handle in booking links
/// (`t.me/<bot>?startapp=<slug>`). 3–32 characters of `a-z`, `0-9` and single
/// inner hyphens, so it is safe in URLs and in Telegram's `startapp` parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(slug: &str) -> Result<Self, String> {
        let length_ok = (3..=32).contains(&slug.len());
        let chars_ok = slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let hyphens_ok = !slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--");
        if !(length_ok && chars_ok && hyphens_ok) {
            return Err(format!(
                "{slug:?} is not a valid slug: use 3 to 32 lowercase letters, digits and single hyphens"
            ));
        }
        if RESERVED.contains(&slug) {
            return Err(format!("{slug:?} is reserved; choose another"));
        }
        Ok(Slug(slug.to_owned()))
    }

    /// A slug as stored: a chosen one, or the `deleted-<id>` a deleted
    /// provider keeps (longer than any chosen slug, so never taken again, and
    /// only formatted for a slug that is not a valid chosen one).
    pub fn stored(text: &str, provider_id: super::ProviderId) -> Result<Self, String> {
        Slug::parse(text).or_else(|refusal| Some(Slug::deleted(provider_id)).filter(|d| d.0 == text).ok_or(refusal))
    }

    /// What a deleted provider's slug becomes.
    pub fn deleted(provider_id: super::ProviderId) -> Self {
        Slug(format!("deleted-{}", provider_id.0.simple()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_slugs_and_refuses_the_rest() {
        for ok in ["anna-nails", "barber42", "abc"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "Anna", "anna nails", "-anna", "anna-", "an--na", "api", "анна", &"a".repeat(33)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
