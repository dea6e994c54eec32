//! al-query
