//! Minimal DNS client. (Placeholder.)
