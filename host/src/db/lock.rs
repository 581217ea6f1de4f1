//! The session-level advisory lock that serialises migration runs on one database.
// STUB — helper B replaces this file.
