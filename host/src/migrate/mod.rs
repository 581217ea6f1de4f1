//! Versioned migrations: files on disk, the tracking table, plans, apply and roll back.
// STUB — helper B replaces this file.

pub mod commands;
