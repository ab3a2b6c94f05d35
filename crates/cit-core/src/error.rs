use std::fmt;

/// A value that failed to parse into a domain type. `code` is stable and machine-readable;
/// `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidInput {
    pub code: &'static str,
    pub message: String,
}

impl InvalidInput {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

/// Why an actor may not do what it asked. The variants map to 401 / 403 in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    /// Nobody is logged in, and the action needs someone.
    #[error("authentication required")]
    Unauthenticated,
    /// Someone is logged in, but may not do this.
    #[error("not allowed")]
    Forbidden,
    /// The tenant is disabled: it answers nobody but a platform admin.
    #[error("tenant disabled")]
    TenantDisabled,
}

impl fmt::Display for crate::access::Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
