//! Placeholder: implemented by the attention issue.
