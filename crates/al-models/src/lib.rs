//! al-models
