//! The session-level advisory lock that serialises migration runs on one database.
// STUB — helper A replaces this file.
