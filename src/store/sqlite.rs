//! SKELETON
#[derive(Debug)] pub struct SqliteStore;
