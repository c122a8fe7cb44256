//! SKELETON
pub struct ArxivClient;
