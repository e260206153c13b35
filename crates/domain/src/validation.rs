//! Why a raw value was refused, and how several refusals travel together.

use std::fmt;

/// Why a raw value could not become a value type.
///
/// The `Display` texts are written to be read after a field name,
/// as in the RealWorld error envelope: `{"errors": {"email": ["is invalid"]}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    #[error("can't be blank")]
    Blank,
    #[error("is too short (minimum is {min} characters)")]
    TooShort { min: usize },
    #[error("is too long (maximum is {max} characters)")]
    TooLong { max: usize },
    #[error("must not contain NUL characters")]
    ContainsNul,
    #[error("is invalid")]
    Malformed,
    #[error("{0}")]
    Rule(&'static str),
}

/// Field-keyed refusals, in the order the fields were checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    errors: Vec<(&'static str, String)>,
}

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// One refusal for one field.
    pub fn single(field: &'static str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.push((field, message.into()));
    }

    /// Parses `raw` with `parse`, recording a refusal under `field` and returning `None` on failure.
    pub fn check<T>(
        &mut self,
        field: &'static str,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        match parse(raw) {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(())` when nothing was refused, otherwise the refusals.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.errors
            .iter()
            .map(|(field, message)| (*field, message.as_str()))
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, message) in self.iter() {
            if !first {
                f.write_str("; ")?;
            }
            write!(f, "{field} {message}")?;
            first = false;
        }
        Ok(())
    }
}

/// The checks every user-supplied string goes through: no NUL, not blank, a length cap in characters.
pub(crate) fn checked_text(raw: &str, max: usize) -> Result<&str, InvalidValue> {
    if raw.contains('\0') {
        return Err(InvalidValue::ContainsNul);
    }
    if raw.trim().is_empty() {
        return Err(InvalidValue::Blank);
    }
    if raw.chars().count() > max {
        return Err(InvalidValue::TooLong { max });
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logs show validation errors through `Display`: every field and message, in order.
    #[test]
    fn display_lists_each_field_with_its_message_separated_by_semicolons() {
        let mut errors = ValidationErrors::new();
        errors.add("email", "is invalid");
        errors.add("password", "is too short");

        assert_eq!(
            errors.to_string(),
            "email is invalid; password is too short"
        );
        assert_eq!(ValidationErrors::new().to_string(), "");
    }
}
