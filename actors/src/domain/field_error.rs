use std::fmt;

/// A rejected input value, named by the path of the field that carries it
/// (`weekly[2].end`, `slot_step_min`), so that an API can say exactly what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    /// The same error seen from an enclosing object: `end` inside `weekly[2]`
    /// becomes `weekly[2].end`.
    pub fn within(self, parent: &str) -> Self {
        Self { field: format!("{parent}.{}", self.field), message: self.message }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Checks that `value` lies in `min..=max`, naming `field` otherwise.
pub(crate) fn check_range<T>(field: &str, value: T, min: T, max: T) -> Result<(), FieldError>
where
    T: PartialOrd + fmt::Display + Copy,
{
    if value < min || value > max {
        return Err(FieldError::new(field, format!("must be between {min} and {max}, got {value}")));
    }
    Ok(())
}
